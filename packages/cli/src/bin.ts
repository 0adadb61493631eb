#!/usr/bin/env node
import { runCli } from "./main.js";

const code = await runCli(process.argv.slice(2));
process.exitCode = code;
// A connection that refuses to close must not keep an operator's shell
// waiting; output is already written (pipes and files are synchronous on POSIX).
setTimeout(() => process.exit(code), 2_000).unref();
