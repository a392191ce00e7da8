// ctxembed/server: the HTTP server as a library, apart from the main entry point so that
// `import "ctxembed"` does not load fastify and prom-client.
export { buildServer, type ServerHooks } from "./app.js";
export type { ServerOptions } from "./options.js";
