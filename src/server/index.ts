export { createServerApp, type ServerAppOptions } from "./app.js";
export { startServer, type RunningServer, type StartServerOptions } from "./start.js";
