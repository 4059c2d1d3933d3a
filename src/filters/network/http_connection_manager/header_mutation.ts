import type { HeaderMutations, HeaderValueOption } from '../../../config/model.js';
import { appendHeader, removeHeader, setHeader, type HeaderList } from './codec/index.js';

function apply(h: HeaderList, add: readonly HeaderValueOption[], remove: readonly string[]): void {
  for (const name of remove) removeHeader(h, name);
  for (const o of add) {
    if (o.append === 'APPEND_IF_EXISTS_OR_ADD') appendHeader(h, o.key, o.value);
    else setHeader(h, o.key, o.value);
  }
}

/** VirtualService `headers.request` (route, then destination), as Envoy applies them. */
export function mutateRequest(h: HeaderList, ...layers: (HeaderMutations | undefined)[]): void {
  for (const m of layers) if (m && (m.requestHeadersToAdd.length || m.requestHeadersToRemove.length)) apply(h, m.requestHeadersToAdd, m.requestHeadersToRemove);
}

export function mutateResponse(h: HeaderList, ...layers: (HeaderMutations | undefined)[]): void {
  for (const m of layers) if (m && (m.responseHeadersToAdd.length || m.responseHeadersToRemove.length)) apply(h, m.responseHeadersToAdd, m.responseHeadersToRemove);
}
