// The reference side of tests/unit/v8_value_test.cc: Node's own serializer.
// stdin: {"op": "serialize", "host": "v8" | "channel", "cases": [JS expression...]}
//   -> [{"hex": bytes, "inspect": util.inspect(value)} | {"error": message}, ...]
// or {"op": "deserialize", "host": ..., "hex": [bytes...]} -> [{"inspect"} | {"error"}, ...]
// "channel" is what lib/internal/child_process/serialization.js writes on the
// IPC channel: ChildProcessSerializer puts a uint32 kind (0: ArrayBufferView)
// before Node's host object. That class is internal, so it is mirrored here
// from that file (the channel tests in tests/compat check the real one).
'use strict';
const v8 = require('v8');
const util = require('util');

class ChannelSerializer extends v8.DefaultSerializer {
  _writeHostObject(object) {
    this.writeUint32(0);
    return super._writeHostObject(object);
  }
}
class ChannelDeserializer extends v8.DefaultDeserializer {
  _readHostObject() {
    if (this.readUint32() !== 0) throw new Error('not an ArrayBufferView');
    return super._readHostObject();
  }
}

function serialize(value, host) {
  if (host !== 'channel') return v8.serialize(value);
  const ser = new ChannelSerializer();
  ser.writeHeader();
  ser.writeValue(value);
  return ser.releaseBuffer();
}

function deserialize(buffer, host) {
  if (host !== 'channel') return v8.deserialize(buffer);
  const des = new ChannelDeserializer(buffer);
  des.readHeader();
  return des.readValue();
}

// A DataView shows its whole ArrayBuffer, which Node's deserializer takes
// from a pool: compare what it views.
const inspect = (v) => (v instanceof DataView
  ? `DataView <${Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex')}>`
  : util.inspect(v, { depth: null, showHidden: false }));

let input = '';
process.stdin.on('data', (d) => { input += d; });
process.stdin.on('end', () => {
  const req = JSON.parse(input);
  const out = [];
  for (const item of req.op === 'serialize' ? req.cases : req.hex) {
    try {
      if (req.op === 'serialize') {
        const value = (0, eval)(`(${item})`);
        out.push({ hex: serialize(value, req.host).toString('hex'), inspect: inspect(value) });
      } else {
        out.push({ inspect: inspect(deserialize(Buffer.from(item, 'hex'), req.host)) });
      }
    } catch (e) {
      out.push({ error: String(e && e.message) });
    }
  }
  process.stdout.write(JSON.stringify(out));
});
