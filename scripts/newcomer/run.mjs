// The newcomer test: what a new user does with sessionkit, from the packed
// tarballs, with plain npm, outside the workspace, on Node 20, 22 and 24.
//
// 1. build, then `pnpm pack` every public package;
// 2. check that each README example's imports (and the @types packages they
//    need) are on that README's own `npm install` lines;
// 3. per Node major: a fresh folder under the OS temp dir with
//    `"type": "module"`, `npm install` of the tarballs plus exactly the
//    packages of the README install lines, `npm ls --all` clean;
// 4. every README example is written out verbatim (the README text itself);
//    the server programs are started as the READMEs say (`node server.ts` on
//    Node 22 and 24, `npx tsx server.ts` on Node 20) and driven over HTTP
//    (drive.mjs: first visit sets no cookie, write, read back, logout clears);
//    the Fetch example is driven through its default export; the conformance
//    examples run under vitest; a deliberately broken store must fail with
//    the rule's name and a frame in the suite's TypeScript source;
// 5. `tsc` in strict mode with `skipLibCheck: false`, `module: nodenext` and
//    `moduleResolution: bundler`, over every example;
// 6. `require()` of every package from CommonJS.
//
// Options: --node 20,22,24 (default), --skip-build, --keep (leave the folders).
// Every child process runs with a timeout and is killed on exit.
import { execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { createServer, Socket } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { stripVTControlCharacters } from "node:util";
import { CACHE, nodeOfMajor } from "./node-binaries.mjs";
import { installLines, listReadmes, readmeExamples } from "./readme-examples.mjs";

const root = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");
const args = process.argv.slice(2);
const flag = (name) => args.includes(name);
const option = (name, fallback) => {
  const at = args.indexOf(name);
  return at === -1 ? fallback : args[at + 1];
};
const majors = option("--node", "20,22,24").split(",").map(Number);
const started = Date.now();
const seconds = (from) => ((Date.now() - from) / 1000).toFixed(0);
const log = (message) => console.warn(`newcomer: ${message}`);

/** Child processes still running: killed if this process exits early. */
const children = new Set();
const killAll = () => {
  for (const child of children) child.kill("SIGKILL");
};
process.on("exit", killAll);
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    killAll();
    process.exit(130);
  });
}

class Failure extends Error {}
const fail = (message) => {
  throw new Failure(message);
};

/**
 * Runs a command to completion with a timeout; rejects with its output on a
 * non-zero exit. Output is captured, and printed only on failure.
 */
function run(command, commandArgs, { cwd, env, timeoutMs = 300_000, allowFailure = false } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, commandArgs, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    children.add(child);
    let output = "";
    child.stdout.on("data", (chunk) => {
      output += chunk;
    });
    child.stderr.on("data", (chunk) => {
      output += chunk;
    });
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      output += `\n[killed after ${timeoutMs} ms]`;
    }, timeoutMs);
    child.on("error", (error) => {
      clearTimeout(timer);
      children.delete(child);
      reject(new Failure(`${command} ${commandArgs.join(" ")}: ${error.message}`));
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      children.delete(child);
      if ((code === 0 && signal === null) || allowFailure) resolve({ code, output });
      else {
        reject(
          new Failure(
            `${command} ${commandArgs.join(" ")} (in ${cwd}) exited with ${code ?? signal}:\n${output.slice(-6000)}`,
          ),
        );
      }
    });
  });
}

/** A free TCP port on 127.0.0.1. */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Resolves once 127.0.0.1:port accepts a connection; polls, never a fixed sleep. */
async function waitForPort(port, child, deadlineMs, output) {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      fail(
        `the program exited (${child.exitCode ?? child.signalCode}) before listening:\n${output()}`,
      );
    }
    const open = await new Promise((resolve) => {
      const socket = new Socket();
      socket.setTimeout(1_000);
      socket.once("connect", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("timeout", () => {
        socket.destroy();
        resolve(false);
      });
      socket.once("error", () => resolve(false));
      socket.connect(port, "127.0.0.1");
    });
    if (open) return;
    if (Date.now() > deadline)
      fail(`nothing listened on port ${port} within ${deadlineMs} ms:\n${output()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

// ---------------------------------------------------------------- packages

function publicPackages() {
  return readdirSync(join(root, "packages"), { withFileTypes: true })
    .filter(
      (entry) =>
        entry.isDirectory() && existsSync(join(root, "packages", entry.name, "package.json")),
    )
    .map((entry) => {
      const dir = join(root, "packages", entry.name);
      return { dir, manifest: JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) };
    })
    .filter(({ manifest }) => manifest.private !== true);
}

function packAll(destination) {
  const tarballs = new Map();
  for (const { dir, manifest } of publicPackages()) {
    const before = new Set(readdirSync(destination));
    execFileSync("pnpm", ["pack", "--pack-destination", destination], {
      cwd: dir,
      stdio: ["ignore", "ignore", "inherit"],
      timeout: 120_000,
    });
    const file = readdirSync(destination).find((name) => !before.has(name));
    if (file === undefined) fail(`pnpm pack produced nothing for ${manifest.name}`);
    tarballs.set(manifest.name, join(destination, file));
  }
  return tarballs;
}

// ---------------------------------------------------------------- examples

/**
 * The type packages an import needs under `strict` with `skipLibCheck: false`:
 * DefinitelyTyped's, and ioredis's declarations import the untyped
 * `redis-errors` (its types are only a devDependency of ioredis).
 */
const TYPES_NEEDED = new Map([
  ["express", ["@types/express"]],
  ["express-session", ["@types/express-session"]],
  ["koa", ["@types/koa"]],
  ["pg", ["@types/pg"]],
  ["better-sqlite3", ["@types/better-sqlite3"]],
  ["ioredis", ["@types/redis-errors"]],
]);

/**
 * READMEs installed in a consumer folder of their own. One folder for all the
 * others keeps the run short, but @types/koa resolves `content-disposition`
 * to whatever copy is hoisted, and Express 5's (2.x, with types of its own)
 * lacks what @types/koa needs: an artefact of one folder holding two
 * frameworks, which no application does.
 */
const OWN_FOLDER = new Map([["packages/koa/README.md", "koa"]]);

function packageOf(specifier) {
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0];
}

function classify(body) {
  if (/describeStoreConformance|failureGroup\(|faultInjectionGroup/.test(body)) return "vitest";
  if (/export default \{ fetch \}/.test(body)) return "fetch";
  if (/\.listen\(|\bserve\(/.test(body)) return "server";
  return "typecheck";
}

/**
 * Every README example, with its README's install lines, in consumer groups;
 * checks each example's imports and their types are on its README's lines.
 */
function collectExamples() {
  const groups = new Map();
  const group = (name) => {
    if (!groups.has(name)) {
      groups.set(name, {
        name,
        examples: new Map(),
        install: { dependencies: new Set(), devDependencies: new Set() },
      });
    }
    return groups.get(name);
  };
  const problems = [];
  for (const readme of listReadmes(root)) {
    const at = group(OWN_FOLDER.get(relative(root, readme)) ?? "main");
    const lines = installLines(readme);
    for (const name of lines.dependencies) at.install.dependencies.add(name);
    for (const name of lines.devDependencies) at.install.devDependencies.add(name);
    const installed = new Set([...lines.dependencies, ...lines.devDependencies]);
    for (const example of readmeExamples(root, readme)) {
      const where = `${example.readme} → ${example.file}`;
      const imports = [
        ...example.body.matchAll(/^(?:import|export)[^"']*?from\s+["']([^"']+)["']/gm),
      ]
        .map(([, specifier]) => specifier)
        .filter((specifier) => !specifier.startsWith(".") && !specifier.startsWith("node:"));
      for (const name of new Set(imports.map(packageOf))) {
        if (!installed.has(name)) {
          problems.push(`${where} imports ${name}, which its README's npm install lines miss`);
        }
        for (const types of TYPES_NEEDED.get(name) ?? []) {
          if (!installed.has(types)) {
            problems.push(`${where} imports ${name}, so the README's install lines need ${types}`);
          }
        }
      }
      if (/\bprocess\.|from "node:/.test(example.body) && !installed.has("@types/node")) {
        problems.push(`${where}: the README's install lines miss @types/node`);
      }
      const key = relative(root, example.path);
      const seen = at.examples.get(key);
      if (seen !== undefined && seen.body !== example.body) {
        problems.push(`${key} appears in two READMEs with different text`);
      }
      at.examples.set(key, {
        ...example,
        key,
        kind: classify(example.body),
        readmes: [...(seen?.readmes ?? []), example.readme],
      });
    }
  }
  if (problems.length > 0) fail(`README install lines:\n- ${problems.join("\n- ")}`);
  return [...groups.values()].map((g) => ({ ...g, examples: [...g.examples.values()] }));
}

// ---------------------------------------------------------------- per Node

const NODENEXT = { module: "nodenext", moduleResolution: "nodenext" };
const BUNDLER = { module: "preserve", moduleResolution: "bundler" };

function tsconfig(resolution, include) {
  return JSON.stringify(
    {
      compilerOptions: {
        ...resolution,
        target: "es2022",
        lib: ["es2023", "dom"],
        types: ["node"],
        strict: true,
        skipLibCheck: false,
        noEmit: true,
        verbatimModuleSyntax: true,
        isolatedModules: true,
        noUncheckedIndexedAccess: true,
      },
      include,
    },
    null,
    2,
  );
}

/**
 * Makes better-sqlite3 loadable under this Node. Version 13 ships N-API
 * prebuilds (nothing to do); 12 is compiled from source where no prebuilt
 * binary can be fetched, which costs minutes, so the addon is built once per
 * version and Node ABI and cached under ~/.cache/sessionkit.
 */
async function betterSqlite(consumer, env, nodeVersion) {
  const dir = join(consumer, "node_modules", "better-sqlite3");
  if (!existsSync(dir)) return;
  const node = join(env.NODE_BIN, "node");
  const loads = async () =>
    (
      await run(node, ["-e", 'require("better-sqlite3")(":memory:").close()'], {
        cwd: consumer,
        env,
        timeoutMs: 60_000,
        allowFailure: true,
      })
    ).code === 0;
  if (await loads()) return;
  const { version } = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
  const abi = execFileSync(node, ["-p", "process.versions.modules"], { encoding: "utf8" }).trim();
  const cached = join(
    CACHE,
    "better-sqlite3",
    `${version}-node-abi${abi}-${process.platform}-${process.arch}`,
    "better_sqlite3.node",
  );
  const target = join(dir, "build", "Release", "better_sqlite3.node");
  if (existsSync(cached)) {
    mkdirSync(dirname(target), { recursive: true });
    copyFileSync(cached, target);
    if (await loads()) return;
  }
  const from = Date.now();
  log(`Node ${nodeVersion}: building better-sqlite3 ${version} for ABI ${abi} (cached afterwards)`);
  await run("npm", ["rebuild", "better-sqlite3", "--foreground-scripts"], {
    cwd: consumer,
    env,
    timeoutMs: 1_200_000,
  });
  if (!(await loads()))
    fail(`better-sqlite3 ${version} does not load on Node ${nodeVersion} after npm rebuild`);
  if (existsSync(target)) {
    mkdirSync(dirname(cached), { recursive: true });
    copyFileSync(target, cached);
  }
  log(`Node ${nodeVersion}: better-sqlite3 built in ${seconds(from)} s`);
}

async function onNode(major, tarballs, groups) {
  const total = { servers: 0, vitest: 0, typechecked: 0 };
  let version = "";
  for (const group of groups) {
    const result = await onNodeGroup(major, tarballs, group);
    version = result.version;
    for (const name of Object.keys(total)) total[name] += result.counts[name];
  }
  return { version, counts: total };
}

async function onNodeGroup(major, tarballs, { name: groupName, examples, install }) {
  const node = nodeOfMajor(major);
  const from = Date.now();
  const consumer = mkdtempSync(join(tmpdir(), `sessionkit-newcomer-node${major}-${groupName}-`));
  const env = {
    ...process.env,
    PATH: `${node.bin}:${process.env.PATH}`,
    NODE_BIN: node.bin,
    npm_config_update_notifier: "false",
    npm_config_fund: "false",
    npm_config_audit: "false",
    // The registry is whatever this machine's npm configuration says.
  };
  if (node.nodedir !== undefined) env.npm_config_nodedir = node.nodedir;
  for (const name of Object.keys(env)) {
    // A test runner's own variables must not leak into the consumer's vitest.
    if (
      name.startsWith("VITEST") ||
      name === "NODE_OPTIONS" ||
      name.startsWith("npm_package_") ||
      name === "INIT_CWD"
    ) {
      delete env[name];
    }
  }
  const actual = execFileSync(join(node.bin, "node"), ["--version"], { encoding: "utf8" }).trim();
  if (!actual.startsWith(`v${major}.`)) fail(`expected Node ${major}, got ${actual}`);
  const counts = { servers: 0, vitest: 0, typechecked: 0 };
  try {
    writeFileSync(
      join(consumer, "package.json"),
      `${JSON.stringify({ name: "newcomer", private: true, type: "module" }, null, 2)}\n`,
    );
    const spec = (name) =>
      tarballs.get(name) ??
      (name.startsWith("@sessionkit/")
        ? fail(`README installs ${name}, which is not a public package`)
        : name);
    // The main folder gets every tarball (what we publish) plus the README
    // lines; a folder of its own only what its README's lines name.
    const ours = groupName === "main" ? [...tarballs.keys()] : [];
    const dependencies = [...new Set([...ours, ...install.dependencies])].map(spec);
    // tsx is how the READMEs run TypeScript on Node 20.
    const devDependencies = [
      ...new Set([...install.devDependencies, ...(major === 20 ? ["tsx"] : [])]),
    ]
      .filter((name) => !install.dependencies.has(name))
      .map(spec);
    // Scripts are run for better-sqlite3 only (cached per ABI below): a cold
    // native build on every run would cost minutes.
    await run("npm", ["install", "--ignore-scripts", ...dependencies], {
      cwd: consumer,
      env,
    });
    await run("npm", ["install", "--ignore-scripts", "--save-dev", ...devDependencies], {
      cwd: consumer,
      env,
    });
    log(`Node ${actual}: npm install done (${seconds(from)} s)`);
    await betterSqlite(consumer, env, actual);
    const ls = await run("npm", ["ls", "--all"], { cwd: consumer, env, allowFailure: true });
    if (ls.code !== 0)
      fail(`npm ls --all is not clean on Node ${actual}:\n${ls.output.slice(-4000)}`);
    const versionOf = (name) => {
      const manifest = join(consumer, "node_modules", name, "package.json");
      return existsSync(manifest)
        ? `${name} ${JSON.parse(readFileSync(manifest, "utf8")).version}`
        : null;
    };

    // The README text, verbatim, at the same relative paths as in the repository.
    for (const example of examples) {
      const path = join(consumer, "ex", example.key);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, example.body);
    }
    copyFileSync(join(root, "scripts", "newcomer", "drive.mjs"), join(consumer, "drive.mjs"));

    // Type-check: the express-session example types req.session its own way, so it is its own program.
    const alone = examples.filter((example) => example.body.includes('from "express-session"'));
    const together = examples.filter((example) => !alone.includes(example));
    const programs = [["all", together], ...alone.map((example, i) => [`alone-${i}`, [example]])];
    for (const [mode, resolution] of [
      ["nodenext", NODENEXT],
      ["bundler", BUNDLER],
    ]) {
      for (const [name, members] of programs) {
        const file = `tsconfig.${mode}.${name}.json`;
        writeFileSync(
          join(consumer, file),
          tsconfig(
            resolution,
            members.map((example) => `ex/${example.key}`),
          ),
        );
        await run(
          join(node.bin, "node"),
          [join(consumer, "node_modules", "typescript", "bin", "tsc"), "-p", file],
          {
            cwd: consumer,
            env,
            timeoutMs: 240_000,
          },
        ).catch((error) =>
          fail(`type-check (${mode}) failed on Node ${actual}:\n${error.message}`),
        );
      }
    }
    counts.typechecked = examples.length;
    log(`Node ${actual}: type-checked (${seconds(from)} s)`);

    // CommonJS: require() of every package (once per Node version).
    if (groupName === "main") {
      const requireAll = [...tarballs.keys()]
        .map(
          (name) =>
            `{ const m = require(${JSON.stringify(name)}); if (Object.keys(m).length === 0) throw new Error(${JSON.stringify(`${name}: no exports`)}); }`,
        )
        .join("\n");
      writeFileSync(join(consumer, "require-all.cjs"), `${requireAll}\nconsole.log("required");\n`);
      await run(join(node.bin, "node"), ["require-all.cjs"], {
        cwd: consumer,
        env,
        timeoutMs: 60_000,
      }).catch((error) =>
        fail(`require() from CommonJS failed on Node ${actual}:\n${error.message}`),
      );
    }

    // Run each example as its README says.
    const runTs =
      major === 20 ? [join(consumer, "node_modules", ".bin", "tsx")] : [join(node.bin, "node")];
    for (const example of examples) {
      const file = join(consumer, "ex", example.key);
      const label = `${example.readmes[0]} (${example.file})`;
      if (example.kind === "server") {
        const work = mkdtempSync(join(consumer, "run-"));
        const port = await freePort();
        const child = spawn(runTs[0], [file], {
          cwd: work,
          env: {
            ...env,
            PORT: String(port),
            SESSION_SECRET: randomBytes(32).toString("base64url"),
          },
          stdio: ["ignore", "pipe", "pipe"],
        });
        children.add(child);
        let output = "";
        child.stdout.on("data", (chunk) => {
          output += chunk;
        });
        child.stderr.on("data", (chunk) => {
          output += chunk;
        });
        try {
          await waitForPort(port, child, 60_000, () => output.slice(-4000));
          const { driveCartApp } = await import("./drive.mjs");
          await driveCartApp(`http://127.0.0.1:${port}`).catch((error) =>
            fail(`${error.message}\nprogram output:\n${output.slice(-4000)}`),
          );
        } catch (error) {
          fail(`${label} on Node ${actual}: ${error.message}`);
        } finally {
          child.kill("SIGTERM");
          const exited = new Promise((resolve) => child.once("close", resolve));
          const timeout = setTimeout(() => child.kill("SIGKILL"), 5_000);
          if (child.exitCode === null && child.signalCode === null) await exited;
          clearTimeout(timeout);
          children.delete(child);
        }
        counts.servers++;
      } else if (example.kind === "fetch") {
        const harness = join(consumer, `drive-fetch-${counts.servers}.mjs`);
        writeFileSync(
          harness,
          [
            'import { driveCartApp } from "./drive.mjs";',
            `const { default: app } = await import(${JSON.stringify(`./ex/${example.key}`)});`,
            'await driveCartApp("https://shop.example", { fetch: (url, init) => app.fetch(new Request(url, init)) });',
            'console.log("driven");',
          ].join("\n"),
        );
        const command = major === 20 ? [runTs[0], [harness]] : [join(node.bin, "node"), [harness]];
        await run(command[0], command[1], {
          cwd: consumer,
          env: { ...env, SESSION_SECRET: randomBytes(32).toString("base64url") },
          timeoutMs: 60_000,
        }).catch((error) => fail(`${label} on Node ${actual}: ${error.message}`));
        counts.servers++;
      }
    }

    log(`Node ${actual}: programs driven (${seconds(from)} s)`);
    // The conformance examples, under the vitest npm installed.
    const vitestFiles = examples
      .filter((example) => example.kind === "vitest")
      .map((example) => `ex/${example.key}`);
    if (vitestFiles.length > 0) {
      const { output } = await run(
        join(node.bin, "node"),
        [join(consumer, "node_modules", "vitest", "vitest.mjs"), "run", ...vitestFiles],
        {
          cwd: consumer,
          env: { ...env, CI: "true" },
          timeoutMs: 600_000,
        },
      ).catch((error) =>
        fail(`the conformance examples failed under vitest on Node ${actual}:\n${error.message}`),
      );
      const plain = stripVTControlCharacters(output);
      if (!/Test Files\s+\d+ passed/.test(plain))
        fail(`vitest printed no passing summary:\n${plain.slice(-3000)}`);
      if (!plain.includes("conformance: tests skipped, and why:"))
        fail(`vitest's default reporter did not show the skip reasons:\n${plain.slice(-3000)}`);
      counts.vitest = vitestFiles.length;
    }

    // A broken store must fail naming the rule, at a line of the suite's TypeScript source.
    const custom = examples.find((example) =>
      example.key.endsWith("custom-store/src/map-store.ts"),
    );
    if (custom !== undefined) {
      const broken = join(consumer, "ex", dirname(custom.key), "..", "test", "broken.test.ts");
      writeFileSync(
        broken,
        [
          'import { basicGroup } from "@sessionkit/conformance";',
          'import { createMapStore } from "../src/map-store.js";',
          "basicGroup({",
          "  createStore() {",
          "    const store = createMapStore();",
          "    // Overwrites whatever is stored: the compare-and-set rule is broken.",
          "    return { ...store, set: async (key, record) => store.set(key, record, { ifVersion: (await store.get(key))?.version ?? 0 }) };",
          "  },",
          "});",
          "",
        ].join("\n"),
      );
      const { code, output } = await run(
        join(node.bin, "node"),
        [join(consumer, "node_modules", "vitest", "vitest.mjs"), "run", relative(consumer, broken)],
        {
          cwd: consumer,
          env: { ...env, CI: "true" },
          timeoutMs: 300_000,
          allowFailure: true,
        },
      );
      const plain = stripVTControlCharacters(output);
      if (code === 0)
        fail(`a store that overwrites live records passed the conformance suite on Node ${actual}`);
      if (!plain.includes("must not overwrite a live record"))
        fail(`the failure does not name the broken rule:\n${plain.slice(-3000)}`);
      if (!/@sessionkit\/conformance\/src\/groups\/[a-z-]+\.ts:\d+/.test(plain))
        fail(`the failure does not point at the suite's TypeScript source:\n${plain.slice(-3000)}`);
      rmSync(broken);
    }

    const pinned = ["vitest", "better-sqlite3", "ioredis", "koa", "express", "typescript"]
      .map(versionOf)
      .filter((text) => text !== null)
      .join(", ");
    log(
      `Node ${actual}, ${groupName} folder: ${counts.servers} programs driven over HTTP, ${counts.vitest} conformance files under vitest, ${counts.typechecked} examples type-checked (nodenext, bundler)${groupName === "main" ? `, ${tarballs.size} packages required from CommonJS` : ""}; ${pinned}; ${seconds(from)} s`,
    );
    return { version: actual, counts };
  } finally {
    if (!flag("--keep")) rmSync(consumer, { recursive: true, force: true });
    else log(`kept ${consumer}`);
  }
}

// ---------------------------------------------------------------- main

try {
  if (!flag("--skip-build")) {
    log("building");
    execFileSync("pnpm", ["run", "build"], {
      cwd: root,
      env: { ...process.env, TURBO_TELEMETRY_DISABLED: "1" },
      stdio: ["ignore", "ignore", "inherit"],
      timeout: 900_000,
    });
  }
  const groups = collectExamples();
  const examples = groups.flatMap((g) => g.examples);
  const packs = mkdtempSync(join(tmpdir(), "sessionkit-newcomer-packs-"));
  try {
    const tarballs = packAll(packs);
    log(`packed ${tarballs.size} packages; ${examples.length} README examples`);
    const results = [];
    for (const major of majors) results.push(await onNode(major, tarballs, groups));
    const { servers, vitest, typechecked } = results[0].counts;
    process.stdout.write(
      `newcomer test: ${examples.length} README examples (${servers} run over HTTP, ${vitest} under vitest, ${typechecked} type-checked) from ${tarballs.size} packed packages on Node ${results.map((r) => r.version.slice(1)).join(", ")} passed in ${seconds(started)} s\n`,
    );
  } finally {
    rmSync(packs, { recursive: true, force: true });
  }
} catch (error) {
  console.error(`newcomer test failed: ${error instanceof Failure ? error.message : error.stack}`);
  process.exitCode = 1;
}
