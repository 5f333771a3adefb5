// The official-SDK peer of bench/run-cloud.sh: the same transfers through @azure/storage-blob and
// @google-cloud/storage (pinned, installed by scripts/install-deps --servers into
// .cache/node-sdks), called the way their docs show, with their default transfer settings.
//   node sdk_bench.js az|gs put FILE CONTAINER KEY          one object from a file
//   node sdk_bench.js az|gs get CONTAINER KEY               one object, streamed and discarded
//   node sdk_bench.js az|gs put-dir DIR CONTAINER PREFIX    every file of DIR, 32 in flight
//   node sdk_bench.js az|gs get-dir CONTAINER PREFIX DIR    every object under PREFIX to DIR, 32 in flight
// az: AZURE_STORAGE_CONNECTION_STRING; gs: STORAGE_EMULATOR_HOST (anonymous).
'use strict';
const fs = require('fs');
const path = require('path');
const {pipeline} = require('stream/promises');
const {Writable} = require('stream');

const modules = process.env.OMNIO_NODE_SDKS_DIR ||
    path.join(__dirname, '..', '.cache', 'node-sdks', 'node_modules');
const kJobs = 32;
const discard = () => new Writable({write(chunk, enc, cb) { cb(); }});

async function pool(items, fn) {
  let next = 0;
  await Promise.all(Array.from({length: Math.min(kJobs, items.length)}, async () => {
    while (next < items.length) await fn(items[next++]);
  }));
}

function azure() {
  const {BlobServiceClient} = require(path.join(modules, '@azure/storage-blob'));
  const svc = BlobServiceClient.fromConnectionString(process.env.AZURE_STORAGE_CONNECTION_STRING);
  const blob = (c, k) => svc.getContainerClient(c).getBlockBlobClient(k);
  return {
    put: (file, c, k) => blob(c, k).uploadFile(file),
    get: async (c, k) => pipeline((await blob(c, k).download()).readableStreamBody, discard()),
    list: async (c, prefix) => {
      const keys = [];
      for await (const b of svc.getContainerClient(c).listBlobsFlat({prefix})) keys.push(b.name);
      return keys;
    },
    getFile: (c, k, file) => blob(c, k).downloadToFile(file),
  };
}

function gcs() {
  const {Storage} = require(path.join(modules, '@google-cloud/storage'));
  const storage = new Storage({projectId: 'omnio-bench', apiEndpoint: emulatorUrl()});
  return {
    put: (file, b, k) => storage.bucket(b).upload(file, {destination: k}),
    get: (b, k) => pipeline(storage.bucket(b).file(k).createReadStream(), discard()),
    list: async (b, prefix) => (await storage.bucket(b).getFiles({prefix, autoPaginate: true}))[0].map((f) => f.name),
    getFile: (b, k, file) => storage.bucket(b).file(k).download({destination: file}),
  };
}

// STORAGE_EMULATOR_HOST as host:port means plain http (omnio, gcloud); the SDK would take https
// for uploads and fail on downloads, so it gets the URL, in its environment too.
function emulatorUrl() {
  const host = process.env.STORAGE_EMULATOR_HOST || '';
  const url = /^https?:\/\//.test(host) ? host : `http://${host}`;
  process.env.STORAGE_EMULATOR_HOST = url;
  return url;
}

async function main() {
  const [store, op, ...a] = process.argv.slice(2);
  const s = store === 'az' ? azure() : store === 'gs' ? gcs() : null;
  if (!s) throw new Error('usage: sdk_bench.js az|gs put|get|put-dir|get-dir ...');
  if (op === 'put') return s.put(a[0], a[1], a[2]);
  if (op === 'get') return s.get(a[0], a[1]);
  if (op === 'put-dir') {
    const [dir, c, prefix] = a;
    return pool(fs.readdirSync(dir), (f) => s.put(path.join(dir, f), c, `${prefix}/${f}`));
  }
  if (op === 'get-dir') {
    const [c, prefix, dir] = a;
    fs.mkdirSync(dir, {recursive: true});
    const keys = await s.list(c, `${prefix}/`);
    if (keys.length === 0) throw new Error(`nothing under ${prefix}/`);
    return pool(keys, (k) => s.getFile(c, k, path.join(dir, path.basename(k))));
  }
  throw new Error(`unknown op ${op}`);
}

main().catch((e) => {
  process.stderr.write(`sdk_bench: ${e && e.message ? e.message : e}\n`);
  process.exit(1);
});
