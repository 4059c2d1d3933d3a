import { Buffer } from 'node:buffer';
import protobuf from 'protobufjs';
import { protoRoot } from './protos.js';
import { durationMs, plainToStruct, type Json } from './convert/values.js';

/**
 * Envoy's canonical proto3 JSON (a config_dump, hand-written YAML) → the object form
 * protobufjs encodes: durations and timestamps from strings, wrappers from bare values,
 * Struct from plain objects, Any expanded by its `@type`. An Any of a type the Root does not
 * know (Istio's own filter configs) keeps its type URL and loses its content, which the proxy
 * never reads. Lets a management server or a test serve resources written as JSON.
 */
export function fromEnvoyJson(typeName: string, json: Json): Json {
  return message(protoRoot().lookupType(typeName), json);
}

/** A whole resource as an Any, ready for a DiscoveryResponse. */
export function anyFromEnvoyJson(json: Json): Json {
  return any(json);
}

const WRAPPERS = new Set(['DoubleValue', 'FloatValue', 'Int64Value', 'UInt64Value', 'Int32Value', 'UInt32Value', 'BoolValue', 'StringValue', 'BytesValue'].map((n) => `.google.protobuf.${n}`));

function message(type: protobuf.Type, json: Json): Json {
  if (json === null || typeof json !== 'object') return json;
  const out: Json = {};
  for (const [k, v] of Object.entries(json)) {
    if (k === '@type') continue;
    const field = type.fields[k] ?? type.fieldsArray.find((f) => f.options?.json_name === k || camel(f.name) === k);
    if (!field) throw new Error(`${type.fullName}: unknown field ${k}`);
    field.resolve();
    const conv = (x: Json) => value(field.resolvedType, x);
    out[field.name] = field.repeated && Array.isArray(v) ? v.map(conv) : field.map ? Object.fromEntries(Object.entries(v as object).map(([mk, mv]) => [mk, conv(mv)])) : conv(v);
  }
  return out;
}

function value(t: protobuf.Type | protobuf.Enum | null, v: Json): Json {
  if (!t || t instanceof protobuf.Enum) return v;
  switch (t.fullName) {
    case '.google.protobuf.Duration':
    case '.google.protobuf.Timestamp': {
      if (typeof v !== 'string') return v;
      const ms = t.fullName === '.google.protobuf.Duration' ? durationMs(v)! : Date.parse(v);
      return { seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1e6 };
    }
    case '.google.protobuf.Struct':
      return plainToStruct(v);
    case '.google.protobuf.Any':
      return any(v);
  }
  if (WRAPPERS.has(t.fullName) && (v === null || typeof v !== 'object')) return { value: v };
  return message(t, v);
}

function any(v: Json): Json {
  const url: string | undefined = v?.['@type'];
  if (!url) return v;
  const inner = protoRoot().lookup(url.slice(url.lastIndexOf('/') + 1));
  if (!(inner instanceof protobuf.Type)) return { type_url: url, value: Buffer.alloc(0) };
  return { '@type': url, ...message(inner, v) };
}

const camel = (s: string) => s.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());
