import { fromEnvoyJson } from '../../src/xds/proto_json.js';
import { DECODE_OPTIONS, messageType } from '../../src/xds/protos.js';

/** Envoy JSON → proto bytes → decoded object, as a client on the wire would see it. */
export function overTheWire(typeName: string, json: any): any {
  const t = messageType(typeName);
  const { '@type': _type, ...fields } = fromEnvoyJson(typeName, json);
  const bytes = t.encode(t.fromObject(fields)).finish();
  return t.toObject(t.decode(bytes), DECODE_OPTIONS);
}

/** Plain data, undefined-valued keys dropped (the converters write `key: undefined` for absent optional fields). */
export const plain = (x: unknown) => JSON.parse(JSON.stringify(x));
