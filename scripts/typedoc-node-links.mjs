// TypeDoc plugin (typedoc.json "plugin"): links that @types/node's doc comments make to names
// their module does not export, so TypeDoc cannot resolve them and externalSymbolLinkMappings
// (which maps resolved symbols) cannot help. Each is mapped to its page in Node's docs, only
// in the comment of the reflection it appears in.

const NODE_API = 'https://nodejs.org/api/';

/** Reflection (as TypeDoc names it) -> link text -> page in Node's docs. */
const links = {
  'http2.Http2ServerRequest': {
    Server: 'http2.html#class-http2server',
    SecureServer: 'http2.html#class-http2secureserver',
  },
};

/** @param {import('typedoc').Application} app */
export function load(app) {
  app.converter.addUnknownSymbolResolver((ref, reflection) => {
    if (ref.resolutionStart !== 'local' || ref.moduleSource !== undefined) return undefined;
    const name = ref.symbolReference?.path?.map((p) => p.path).join('.');
    const page = name === undefined ? undefined : links[reflection.getFriendlyFullName()]?.[name];
    return page === undefined ? undefined : NODE_API + page;
  });
}
