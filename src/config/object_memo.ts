/**
 * A value derived once from an immutable config object (snapshot data), per thread. The last key
 * asked answers without a WeakMap probe: a request path asks about the same route, policy or
 * cluster over and over, and a probe (a hash of the object) cost more than the rest of the lookup.
 */
export function objectMemo<K extends object, V>(derive: (key: K) => V): (key: K) => V {
  const all = new WeakMap<K, V>();
  let lastKey: K | undefined;
  let lastValue: V | undefined;
  return (key) => {
    if (key === lastKey) return lastValue!;
    let value = all.get(key);
    if (value === undefined) all.set(key, (value = derive(key)));
    lastKey = key;
    lastValue = value;
    return value;
  };
}
