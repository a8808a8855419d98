// Node.js workload for the rulloc benchmark suite.
//
// V8 keeps JavaScript objects in its own garbage-collected heap (mmap'ed
// pages), but node gets from malloc the backing stores of Buffers and typed
// arrays, zlib's state and windows, crypto's contexts, and the
// strings it hands to and from C++. This script does work that crosses that
// line: Buffers built, sliced, concatenated and dropped; deflate and inflate
// of generated text; SHA-256 of many small buffers; plus the usual objects,
// Maps, strings and JSON. Deterministic (its own generator); prints one line
// that must be the same under every allocator.
// Usage: node nodeobjects.js [SCALE]
'use strict';
const crypto = require('crypto');
const zlib = require('zlib');

const scale = Number(process.argv[2] || 1);
const n = Math.max(5000, Math.floor(500000 * scale));
let seed = 4711;
function rnd() { seed = (seed * 1103515245 + 12345) % 2147483648; return seed >>> 8; }
const words = [];
for (let i = 0; i < 1500; i++) {
  let w = '';
  for (let k = 0; k < 2 + (i % 9); k++) w += String.fromCharCode(97 + rnd() % 26);
  words.push(w);
}
const total = crypto.createHash('sha256');

// 1. Buffers of mixed sizes, each hashed, some kept, most dropped.
const kept = [];
for (let i = 0; i < n / 2; i++) {
  const size = 16 + (rnd() % 4096);
  const b = Buffer.allocUnsafe(size);
  b.fill(i & 0xff);
  b.writeUInt32LE(i, 0);
  if (i % 64 === 0) total.update(crypto.createHash('sha256').update(b).digest());
  if (i % 16 === 0) kept.push(b);
  if (kept.length > 2000) total.update(Buffer.concat(kept.splice(0, 1000)).subarray(0, 64));
}

// 2. Text compressed and decompressed in chunks.
let compressed = 0;
for (let c = 0; c < Math.max(4, n / 10000); c++) {
  const parts = [];
  for (let i = 0; i < 4000; i++) parts.push(words[rnd() % words.length]);
  const text = Buffer.from(parts.join(' '));
  const z = zlib.deflateSync(text, { level: 6 });
  compressed += z.length;
  const back = zlib.inflateSync(z);
  if (!back.equals(text)) { console.error('inflate mismatch'); process.exit(3); }
  total.update(z);
}

// 3. Objects, Maps, strings and a JSON round trip.
const index = new Map();
for (let i = 0; i < n; i++) {
  const key = words[rnd() % words.length] + (rnd() % 50);
  let list = index.get(key);
  if (!list) { list = []; index.set(key, list); }
  list.push({ id: i, tag: words[rnd() % words.length].repeat(1 + rnd() % 3), v: rnd() % 1000 });
  if (list.length > 40) index.delete(key);
}
const keys = [...index.keys()].sort();
const json = JSON.stringify(keys.map((k) => [k, index.get(k).map((o) => o.id + ':' + o.tag + ':' + o.v)]));
const parsed = JSON.parse(json);
if (parsed.length !== keys.length) { console.error('JSON round trip lost entries'); process.exit(3); }
total.update(json);

console.log('node keys=%d compressed=%d sha256=%s', keys.length, compressed, total.digest('hex'));
