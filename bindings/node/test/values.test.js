'use strict';
// Every value type, as it comes out in the JSON output.

const test = require('node:test');
const assert = require('node:assert/strict');
const ringlog = require('..');
const { configureToFile, flushed } = require('./helpers');

async function logged(fields) {
  const out = configureToFile(ringlog);
  ringlog.logger({ name: 'values' }).info(fields, 'v');
  const recs = await flushed(ringlog, out);
  assert.equal(recs.length, 1);
  return recs[0];
}

test('strings, including non-ASCII and astral characters', async () => {
  const r = await logged({ a: 'plain', b: 'üñíçødé', c: '日本語', d: 'emoji 😀', e: '', f: 'q"\\\n\t\u0001' });
  assert.equal(r.a, 'plain');
  assert.equal(r.b, 'üñíçødé');
  assert.equal(r.c, '日本語');
  assert.equal(r.d, 'emoji 😀');
  assert.equal(r.e, '');
  assert.equal(r.f, 'q"\\\n\t\u0001');
  const long = 'x'.repeat(1000) + '😀' + 'é'.repeat(500);
  assert.equal((await logged({ long })).long, long);
});

test('numbers: safe integers as integers, others as floats, NaN and Infinity as strings', async () => {
  const r = await logged({
    zero: 0,
    neg: -42,
    max: Number.MAX_SAFE_INTEGER,
    min: Number.MIN_SAFE_INTEGER,
    frac: 12.5,
    past: 2 ** 60,
    tiny: 1e-300,
    negzero: -0,
    nan: NaN,
    inf: Infinity,
    ninf: -Infinity,
  });
  assert.equal(r.zero, 0);
  assert.equal(r.neg, -42);
  assert.equal(r.max, Number.MAX_SAFE_INTEGER);
  assert.equal(r.min, Number.MIN_SAFE_INTEGER);
  assert.equal(r.frac, 12.5);
  assert.equal(r.past, 2 ** 60);
  assert.equal(r.tiny, 1e-300);
  assert.equal(r.negzero, 0);
  assert.equal(r.nan, 'NaN');
  assert.equal(r.inf, 'Infinity');
  assert.equal(r.ninf, '-Infinity');
});

test('integers are written without a fraction, floats keep theirs', async () => {
  const out = configureToFile(ringlog);
  ringlog.logger({ name: 'values' }).info({ i: 200, f: 12.5, big: 2 ** 53 }, 'v');
  await ringlog.flush();
  const line = require('fs').readFileSync(out, 'utf8');
  assert.match(line, /"i":200,/);
  assert.match(line, /"f":12\.5,/);
});

test('bigints: i64, u64, and beyond as decimal strings', async () => {
  const r = await logged({
    small: 5n,
    neg: -(2n ** 63n),
    u: 2n ** 64n - 1n,
    huge: 2n ** 80n,
    hugeneg: -(2n ** 70n),
  });
  const line = JSON.stringify(r);
  assert.ok(line.includes('"small":5'));
  assert.equal(BigInt(r.huge), 2n ** 80n);
  assert.equal(r.huge, (2n ** 80n).toString());
  assert.equal(r.hugeneg, (-(2n ** 70n)).toString());
  // i64::MIN and u64::MAX are exact in the text; JSON.parse rounds them.
  assert.equal(typeof r.neg, 'number');
  assert.equal(typeof r.u, 'number');
});

test('bigints are exact in the output text', async () => {
  const out = configureToFile(ringlog);
  ringlog.logger({ name: 'values' }).info({ neg: -(2n ** 63n), u: 2n ** 64n - 1n }, 'v');
  await ringlog.flush();
  const line = require('fs').readFileSync(out, 'utf8');
  assert.match(line, /"neg":-9223372036854775808,"u":18446744073709551615/);
});

test('booleans, null; undefined, functions and symbols as JSON.stringify has them', async () => {
  const r = await logged({
    t: true,
    f: false,
    n: null,
    u: undefined,
    fn() {},
    s: Symbol('x'),
    arr: [undefined, () => 1, Symbol('y'), null],
  });
  assert.equal(r.t, true);
  assert.equal(r.f, false);
  assert.equal(r.n, null);
  assert.ok(!('u' in r) && !('fn' in r) && !('s' in r));
  assert.deepEqual(r.arr, [null, null, null, null]);
});

test('Buffer, typed arrays, DataView and ArrayBuffer as base64 bytes', async () => {
  const ab = new Uint8Array([1, 2, 3]).buffer;
  const r = await logged({
    buf: Buffer.from('hello'),
    u8: new Uint8Array([0, 255]),
    i16: new Int16Array([1, -1]),
    f32: new Float32Array([1.5]),
    sub: new Uint8Array([9, 8, 7, 6]).subarray(1, 3),
    dv: new DataView(ab, 1, 2),
    ab,
    empty: Buffer.alloc(0),
  });
  const b64 = (x) => Buffer.from(x.buffer, x.byteOffset, x.byteLength).toString('base64');
  assert.equal(r.buf, 'aGVsbG8=');
  assert.equal(r.u8, b64(new Uint8Array([0, 255])));
  assert.equal(r.i16, b64(new Int16Array([1, -1])));
  assert.equal(r.f32, b64(new Float32Array([1.5])));
  assert.equal(r.sub, Buffer.from([8, 7]).toString('base64'));
  assert.equal(r.dv, Buffer.from([2, 3]).toString('base64'));
  assert.equal(r.ab, Buffer.from([1, 2, 3]).toString('base64'));
  assert.equal(r.empty, '');
});

test('Date as ISO 8601; an invalid Date as null', async () => {
  const r = await logged({ d: new Date(Date.UTC(2026, 10, 22, 1, 2, 3, 456)), bad: new Date(NaN) });
  assert.equal(r.d, '2026-11-22T01:02:03.456Z');
  assert.equal(r.bad, null);
});

test('nested objects and arrays as nested JSON', async () => {
  const v = {
    obj: { a: 1, b: { c: [1, 'two', { three: 3 }], d: {} } },
    arr: [[1, 2], [], [[['deep']]]],
    mixed: [1, 2.5, 'x', true, null, { k: 'v' }],
  };
  const r = await logged(v);
  assert.deepEqual(r.obj, v.obj);
  assert.deepEqual(r.arr, v.arr);
  assert.deepEqual(r.mixed, v.mixed);
});

test('toJSON is honoured (once, as JSON.stringify does)', async () => {
  class Money {
    constructor(c) {
      this.cents = c;
    }
    toJSON() {
      return { amount: this.cents / 100, currency: 'EUR', inner: { toJSON: () => 'inner' } };
    }
  }
  const r = await logged({
    m: new Money(1250),
    s: { toJSON: () => 'as text' },
    n: { toJSON: () => 7 },
    u: { toJSON: () => undefined },
    self: {
      toJSON() {
        return this;
      },
      x: 1,
    },
  });
  assert.deepEqual(r.m, { amount: 12.5, currency: 'EUR', inner: 'inner' });
  assert.equal(r.s, 'as text');
  assert.equal(r.n, 7);
  assert.equal(r.u, null);
  assert.equal(r.self.x, 1);
});

test('Map as an object, Set as an array, class instances by their fields, boxed primitives', async () => {
  class Point {
    constructor() {
      this.x = 1;
      this.y = 2;
    }
    get norm() {
      return 3;
    }
  }
  const r = await logged({
    map: new Map([
      ['a', 1],
      [2, 'two'],
    ]),
    set: new Set(['x', 'y']),
    p: new Point(),
    str: new String('boxed'),
    num: new Number(5),
    re: /re/g,
    nullproto: Object.assign(Object.create(null), { z: 26 }),
  });
  assert.deepEqual(r.map, { a: 1, 2: 'two' });
  assert.deepEqual(r.set, ['x', 'y']);
  assert.deepEqual(r.p, { x: 1, y: 2 });
  assert.equal(r.str, 'boxed');
  assert.equal(r.num, 5);
  assert.deepEqual(r.re, {});
  assert.deepEqual(r.nullproto, { z: 26 });
});

test('nesting deeper than 16 levels ends in a placeholder', async () => {
  let deep = { leaf: true };
  for (let i = 0; i < 30; i++) deep = { d: deep };
  let arr = ['leaf'];
  for (let i = 0; i < 30; i++) arr = [arr];
  const r = await logged({ deep, arr });
  let o = r.deep;
  let depth = 0;
  while (typeof o === 'object') {
    o = o.d;
    depth++;
  }
  assert.equal(o, '[Object]');
  assert.equal(depth, 16);
  let a = r.arr;
  while (Array.isArray(a)) a = a[0];
  assert.equal(a, '[Array]');
});

test('a child binds every value type the same way', async () => {
  const out = configureToFile(ringlog);
  const child = ringlog.logger({ name: 'values' }).child({
    s: 'x',
    n: 1.5,
    i: 3,
    b: 10n,
    t: true,
    z: null,
    buf: Buffer.from([1]),
    d: new Date(0),
    o: { a: [1] },
    e: new Error('bound'),
  });
  child.info('v');
  const [r] = await flushed(ringlog, out);
  assert.equal(r.s, 'x');
  assert.equal(r.n, 1.5);
  assert.equal(r.i, 3);
  assert.equal(r.b, 10);
  assert.equal(r.t, true);
  assert.equal(r.z, null);
  assert.equal(r.buf, 'AQ==');
  assert.equal(r.d, '1970-01-01T00:00:00.000Z');
  assert.deepEqual(r.o, { a: [1] });
  assert.equal(r.e.message, 'bound');
});
