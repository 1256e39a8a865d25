// An implementation of the streamsec envelope independent of the Python code, used by
// test_vectors.py: Node's crypto for AES-256-GCM and HMAC-SHA256, and AES-SIV (RFC 5297)
// written out here from AES-ECB/CTR (Node has no SIV). Reads the vectors of
// docs/envelope.md as JSON on stdin; prints the envelopes/pseudonyms it computes.
// Version 2: binding fields in the AAD, padded plaintext, a per-message GCM subkey
// from HKDF-Expand-SHA256 (written out from HMAC here). Version 1: the old format.
"use strict";
const c = require("crypto");

const aesEcb = (k, b) => {
  const e = c.createCipheriv(`aes-${k.length * 8}-ecb`, k, null);
  e.setAutoPadding(false);
  return e.update(b);
};
const xor = (a, b) => Buffer.from(a.map((x, i) => x ^ b[i]));
const dbl = (b) => {
  const o = Buffer.alloc(16);
  let carry = 0;
  for (let i = 15; i >= 0; i--) { o[i] = ((b[i] << 1) | carry) & 0xff; carry = b[i] >> 7; }
  if (b[0] & 0x80) o[15] ^= 0x87;
  return o;
};
function cmac(k, m) {
  const k1 = dbl(aesEcb(k, Buffer.alloc(16))), k2 = dbl(k1);
  const n = Math.max(1, Math.ceil(m.length / 16));
  let last;
  if (m.length > 0 && m.length % 16 === 0) last = xor(m.subarray((n - 1) * 16), k1);
  else {
    const p = Buffer.alloc(16);
    m.subarray((n - 1) * 16).copy(p);
    p[m.length - (n - 1) * 16] = 0x80;
    last = xor(p, k2);
  }
  let x = Buffer.alloc(16);
  for (let i = 0; i < n - 1; i++) x = aesEcb(k, xor(x, m.subarray(i * 16, i * 16 + 16)));
  return aesEcb(k, xor(x, last));
}
function sivEncrypt(key, ads, p) {
  const k1 = key.subarray(0, key.length / 2), k2 = key.subarray(key.length / 2);
  let d = cmac(k1, Buffer.alloc(16));
  for (const a of ads) d = xor(dbl(d), cmac(k1, a));
  let t;
  if (p.length >= 16) {
    t = Buffer.from(p);
    for (let i = 0; i < 16; i++) t[p.length - 16 + i] ^= d[i];
  } else {
    const pad = Buffer.alloc(16);
    p.copy(pad);
    pad[p.length] = 0x80;
    t = xor(dbl(d), pad);
  }
  const v = cmac(k1, t);
  const q = Buffer.from(v);
  q[8] &= 0x7f;
  q[12] &= 0x7f;
  const ctr = c.createCipheriv(`aes-${k2.length * 8}-ctr`, k2, q);
  return Buffer.concat([v, ctr.update(p), ctr.final()]);
}
const lp = (s) => {
  const b = Buffer.from(s, "utf8"), l = Buffer.alloc(4);
  l.writeUInt32BE(b.length);
  return Buffer.concat([l, b]);
};
// Type-tagged plaintext, re-derived from the JSON value (not taken from the vector).
const tagged = (v) => typeof v === "string"
  ? Buffer.concat([Buffer.from("s"), Buffer.from(v, "utf8")])
  : Buffer.concat([Buffer.from("j"), Buffer.from(JSON.stringify(v), "utf8")]);

// Self-check against RFC 5297 appendix A.1 first.
const rfc = sivEncrypt(
  Buffer.from("fffefdfcfbfaf9f8f7f6f5f4f3f2f1f0f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff", "hex"),
  [Buffer.from("101112131415161718191a1b1c1d1e1f2021222324252627", "hex")],
  Buffer.from("112233445566778899aabbccddee", "hex"));
if (rfc.toString("hex") !== "85632d07c6e8f37f950acd320a2ecc9340c02b9690c4dc04daef7f6afe5c") {
  throw new Error("AES-SIV self-check failed");
}

// HKDF-Expand (RFC 5869) for L = 32: one block, T(1) = HMAC(PRK, info || 0x01).
const hkdfExpand32 = (prk, info) =>
  c.createHmac("sha256", prk).update(Buffer.concat([info, Buffer.from([1])])).digest();
// ISO/IEC 7816-4 padding to a multiple of the bucket size.
const pad = (p, bucket) => {
  const fill = (bucket - ((p.length + 1) % bucket)) % bucket;
  return Buffer.concat([p, Buffer.from([0x80]), Buffer.alloc(fill)]);
};

const vectors = JSON.parse(require("fs").readFileSync(0, "utf8"));
const out = vectors.map((v) => {
  const key = Buffer.from(v.key, "hex");
  const value = JSON.parse(v.value);
  if (v.alg === "hmac") {
    const mac = c.createHmac("sha256", key).update(Buffer.from(value, "utf8")).digest();
    return `hmac:${v.key_id}:${mac.subarray(0, 16).toString("base64url")}`;
  }
  const v2 = v.version === "2";
  const fields = ["ssec", `v${v.version}`, v.key_id, v.alg, v.topology, v.path];
  const aad = Buffer.concat((v2 ? [...fields, v.subject, v.record, v.position] : fields).map(lp));
  const plain = v2 ? pad(tagged(value), Number(v.pad_to)) : tagged(value);
  let payload;
  if (v.alg === "gcm") {
    const nonce = Buffer.from(v.nonce, "hex");
    const info = Buffer.concat([lp("ssec-gcm-subkey"), lp("v2"), nonce.subarray(0, 12)]);
    const gcmKey = v2 ? hkdfExpand32(key, info) : key;
    const e = c.createCipheriv("aes-256-gcm", gcmKey, v2 ? nonce.subarray(12) : nonce);
    e.setAAD(aad);
    payload = Buffer.concat([nonce, e.update(plain), e.final(), e.getAuthTag()]);
  } else {
    payload = sivEncrypt(key, [aad], plain);
  }
  return `ssec:v${v.version}:${v.key_id}:${v.alg}:${payload.toString("base64url")}`;
});
process.stdout.write(JSON.stringify(out));
