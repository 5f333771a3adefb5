// The Cloud Storage emulator inside firebase-tools, headless: no Java, no rules JAR, no network.
// Its GCS JSON API routes use an admin storage layer that never consults security rules, so the
// rules runtime and manager are replaced by no-ops. Relies on firebase-tools internals: the version
// is pinned in scripts/install-deps (FIREBASE_TOOLS_VERSION).
//   node gcs-emulator.js NODE_MODULES_DIR HOST PORT PROJECT
"use strict";
const path = require("path");
const [modules, host, portText, projectId] = process.argv.slice(2);
const lib = path.join(modules, "firebase-tools", "lib", "emulator");
const runtime = require(path.join(lib, "storage", "rules", "runtime"));
const manager = require(path.join(lib, "storage", "rules", "manager"));
const noop = async () => {};
runtime.StorageRulesRuntime.prototype.start = noop;
runtime.StorageRulesRuntime.prototype.stop = noop;
manager.createStorageRulesManager = () => ({ start: noop, stop: noop, getRuleset: () => undefined });
const { StorageEmulator } = require(path.join(lib, "storage"));
const { EmulatorRegistry } = require(path.join(lib, "registry"));
const port = Number(portText);
const emulator = new StorageEmulator({ projectId, host, port, auto_download: false });
EmulatorRegistry.start(emulator).then(
  () => console.log(`GCS_EMULATOR_READY http://${host}:${port}`),
  (e) => { console.error(`gcs-emulator: ${e && e.stack ? e.stack : e}`); process.exit(1); });
const stop = () => emulator.stop().finally(() => process.exit(0));
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
