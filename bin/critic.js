#!/usr/bin/env node
import { main, errorText } from "../dist/cli/main.js";

main(process.argv).catch((error) => {
  console.error(errorText(error));
  process.exit(1);
});
