// Runs the fault server in its own process for benchmarks, so its CPU is not counted as critic's.
// `--reply <text>`: answer every request with that text (default: a Prometheus verdict per prompt).
import { startFaultServer } from "../test/support/fault-server.js";

const at = process.argv.indexOf("--reply");
const fixed = at >= 0 ? process.argv[at + 1] : undefined;
const server = await startFaultServer({ record: false, ...(fixed !== undefined ? { reply: () => fixed } : {}) });
process.stdout.write(`${server.baseURL}\n`);
process.on("SIGTERM", () => void server.close().then(() => process.exit(0)));
