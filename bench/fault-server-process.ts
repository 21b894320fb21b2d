// Runs the fault server in its own process for benchmarks, so its CPU is not counted as critic's.
import { startFaultServer } from "../test/support/fault-server.js";

const server = await startFaultServer({ record: false });
process.stdout.write(`${server.baseURL}\n`);
process.on("SIGTERM", () => void server.close().then(() => process.exit(0)));
