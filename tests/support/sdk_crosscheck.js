// Cross-check omnio with the official SDKs (@azure/storage-blob, @google-cloud/storage; pinned and
// installed by scripts/install-deps --servers into .cache/node-sdks). Reads what omnio wrote and
// writes what omnio reads; the shell tests (tests/azure/sdk_azure.sh, tests/gcs/sdk_gcs.sh) compare.
//   node sdk_crosscheck.js az read CONTAINER KEY      (AZURE_STORAGE_CONNECTION_STRING)
//   node sdk_crosscheck.js az write CONTAINER KEY FILE single|staged CONTENT_TYPE [k=v ...]
//   node sdk_crosscheck.js gs read BUCKET KEY         (STORAGE_EMULATOR_HOST, anonymous)
//   node sdk_crosscheck.js gs write BUCKET KEY FILE single|resumable CONTENT_TYPE [k=v ...]
// read prints one JSON object: sha256, size, contentType, metadata (and az: committed blocks; gs:
// the server's crc32c). Exit 0 on success, 1 with the error on stderr.
'use strict';
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');

const modules = process.env.OMNIO_NODE_SDKS_DIR ||
    path.join(__dirname, '..', '..', '.cache', 'node-sdks', 'node_modules');
const sdk = (name) => require(path.join(modules, name));
const sha256 = (buf) => crypto.createHash('sha256').update(buf).digest('hex');
const metaArgs = (args) =>
    Object.fromEntries(args.map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));

async function azure(op, container, key, rest) {
  const {BlobServiceClient} = sdk('@azure/storage-blob');
  const conn = process.env.AZURE_STORAGE_CONNECTION_STRING;
  if (!conn) throw new Error('AZURE_STORAGE_CONNECTION_STRING is not set');
  const blob = BlobServiceClient.fromConnectionString(conn)
                   .getContainerClient(container)
                   .getBlockBlobClient(key);
  if (op === 'read') {
    const buf = await blob.downloadToBuffer();
    const p = await blob.getProperties();
    const bl = await blob.getBlockList('committed');
    return {
      sha256: sha256(buf), size: buf.length, contentType: p.contentType, metadata: p.metadata,
      blocks: bl.committedBlocks.length, declaredSize: p.contentLength,
    };
  }
  const [file, mode, contentType, ...kv] = rest;
  const data = fs.readFileSync(file);
  const opts = {blobHTTPHeaders: {blobContentType: contentType}, metadata: metaArgs(kv)};
  if (mode === 'single') {
    await blob.upload(data, data.length, opts);
  } else if (mode === 'staged') {  // Put Block x N + Put Block List
    await blob.uploadData(data, {...opts, blockSize: 4 << 20, maxSingleShotSize: 1 << 20, concurrency: 4});
  } else {
    throw new Error(`az write: mode must be single or staged, not ${mode}`);
  }
  return {written: data.length};
}

async function gcs(op, bucket, key, rest) {
  const {Storage} = sdk('@google-cloud/storage');
  if (!process.env.STORAGE_EMULATOR_HOST) throw new Error('STORAGE_EMULATOR_HOST is not set');
  // The SDK appends JSON-API paths to a custom apiEndpoint as /b/... (the firebase emulator serves
  // those too) and uploads as /upload/storage/v1/...; the project's fake serves only the canonical
  // /storage/v1/b/..., so reads get that base (both servers serve it).
  const apiEndpoint = emulatorUrl(op === 'read' ? '/storage/v1' : '');
  const file = new Storage({projectId: 'omnio-test', apiEndpoint}).bucket(bucket).file(key);
  if (op === 'read') {
    const [buf] = await file.download();  // the SDK validates the server's crc32c/md5
    const [md] = await file.getMetadata();
    return {
      sha256: sha256(buf), size: buf.length, contentType: md.contentType, metadata: md.metadata || {},
      crc32c: md.crc32c, declaredSize: Number(md.size),
    };
  }
  const [f, mode, contentType, ...kv] = rest;
  const data = fs.readFileSync(f);
  if (mode !== 'single' && mode !== 'resumable') {
    throw new Error(`gs write: mode must be single or resumable, not ${mode}`);
  }
  await file.save(data, {resumable: mode === 'resumable', contentType, metadata: {metadata: metaArgs(kv)}});
  return {written: data.length};
}

// STORAGE_EMULATOR_HOST as host:port means plain http (omnio, gcloud); the SDK would take https
// for uploads and fail on downloads, so it gets the URL, in its environment too.
function emulatorUrl(suffix = '') {
  const host = process.env.STORAGE_EMULATOR_HOST || '';
  const url = (/^https?:\/\//.test(host) ? host : `http://${host}`) + suffix;
  process.env.STORAGE_EMULATOR_HOST = url;
  return url;
}

async function main() {
  const [store, op, container, key, ...rest] = process.argv.slice(2);
  if (!['az', 'gs'].includes(store) || !['read', 'write'].includes(op) || !container || !key) {
    throw new Error('usage: sdk_crosscheck.js az|gs read|write CONTAINER KEY [FILE MODE CONTENT_TYPE k=v...]');
  }
  const out = await (store === 'az' ? azure : gcs)(op, container, key, rest);
  process.stdout.write(JSON.stringify(out) + '\n');
}

main().catch((e) => {
  process.stderr.write(`sdk_crosscheck: ${e && e.message ? e.message : e}\n`);
  process.exit(1);
});
