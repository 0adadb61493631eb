import type { HttpResult } from "./report.js";
import { clientSuffix, workSuffix } from "./subject.js";

/** What the chart says about the run it comes from. */
export interface ChartRun {
  readonly mode: "quick" | "full";
  readonly measured: "dist" | "source";
  /** YYYY-MM-DD. */
  readonly date: string;
  readonly repetitions: number;
  /** 1, 5 and 15 minute load averages. */
  readonly loadAtStart: readonly number[];
  readonly loadAtEnd: readonly number[];
}

const TITLES = { "node:http": "node:http", express: "Express 5", fastify: "Fastify 5" } as const;
const GROUPS = ["none", "memory", "sqlite", "redis", "postgres"] as const;
const GROUP_TITLES = {
  none: "no session (ceilings)",
  memory: "memory",
  sqlite: "SQLite",
  redis: "Redis",
  postgres: "PostgreSQL",
} as const;
const COLORS = { sessionkit: "#2563eb", peer: "#ea8a1a", ceiling: "#9ca3af" } as const;
const PEER_LABELS: Record<string, string> = {
  memory: "MemoryStore",
  "better-sqlite3-session-store": "+ better-sqlite3-session-store",
  "connect-redis@8": "+ connect-redis 8",
  "connect-redis@9": "+ connect-redis 9",
  "connect-pg-simple": "+ connect-pg-simple",
};

const WIDTH = 760;
const LABEL_WIDTH = 300;
const ROW = 20;
const BAR = 13;
const GROUP_HEADER = 20;
const PANEL_GAP = 24;
const VALUE_ROOM = 48;

const xml = (text: string) =>
  text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

const short = (value: number) =>
  value >= 10_000 || (value >= 1000 && value % 1000 === 0)
    ? `${Math.round(value / 1000)}k`
    : value >= 1000
      ? `${(value / 1000).toFixed(1)}k`
      : `${Math.round(value)}`;

function rowLabel(result: HttpResult): string {
  switch (result.sessions) {
    case "none":
      return `${result.ceiling === "async" ? "no session, one await" : "no session"}${workSuffix(result.workMicros)}`;
    case "sessionkit":
      return `sessionkit${clientSuffix(result.redisClient)}`;
    case "floor":
      return "hand-written floor (same guarantees)";
    case "express-session":
      return `express-session ${PEER_LABELS[result.peer ?? ""] ?? result.peer}`;
    case "@fastify/session": {
      const store = result.peer === "memory" ? "" : ` ${PEER_LABELS[result.peer ?? ""]}`;
      return `@fastify/session${store}${result.rolling === false ? ", rolling: false" : ""}`;
    }
  }
}

const colorOf = (result: HttpResult) =>
  result.sessions === "sessionkit"
    ? COLORS.sessionkit
    : result.sessions === "none" || result.sessions === "floor"
      ? COLORS.ceiling
      : COLORS.peer;

/** A round step for about four grid lines up to `max`. */
function gridStep(max: number): number {
  const raw = max / 4;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= raw);
  return step ?? raw;
}

/**
 * One framework's HTTP results as a small horizontal bar chart, plain SVG:
 * one panel per route, rows grouped by store (the no-session ceilings
 * first), each bar the median req/s over the interleaved repetitions with
 * a min–max whisker.
 */
export function frameworkChart(
  framework: HttpResult["framework"],
  results: readonly HttpResult[],
  run: ChartRun,
): string {
  const routes = (["read", "write"] as const).filter((route) =>
    results.some((r) => r.route === route),
  );
  // Rows in a stable order: by group, then as the comparisons list them.
  const rows: { group: (typeof GROUPS)[number]; app: string; sample: HttpResult }[] = [];
  for (const group of GROUPS) {
    for (const result of results) {
      if (result.store !== group || rows.some((row) => row.app === result.app)) continue;
      rows.push({ group, app: result.app, sample: result });
    }
  }
  const panelWidth = (WIDTH - LABEL_WIDTH - 16 - PANEL_GAP * (routes.length - 1)) / routes.length;
  const barRoom = panelWidth - VALUE_ROOM;
  const top = 104;
  const out: string[] = [];
  let y = top;
  const rowY = new Map<string, number>();
  let previous: string | undefined;
  for (const row of rows) {
    if (row.group !== previous) {
      y += 6;
      out.push(`<text x="8" y="${y + 13}" class="group">${xml(GROUP_TITLES[row.group])}</text>`);
      y += GROUP_HEADER;
      previous = row.group;
    }
    rowY.set(row.app, y);
    out.push(
      `<text x="${LABEL_WIDTH - 8}" y="${y + 11}" class="label" text-anchor="end">${xml(rowLabel(row.sample))}</text>`,
    );
    y += ROW;
  }
  const bottom = y + 4;
  for (const [index, route] of routes.entries()) {
    const left = LABEL_WIDTH + index * (panelWidth + PANEL_GAP);
    const inRoute = results.filter((r) => r.route === route);
    const max = Math.max(...inRoute.map((r) => r.reqPerSecMax), 1);
    const step = gridStep(max);
    const scale = barRoom / (Math.ceil(max / step) * step);
    out.push(
      `<text x="${left}" y="${top - 14}" class="panel">${route === "read" ? "GET /read (unchanged session)" : "POST /write (changed session)"}</text>`,
    );
    for (let tick = 0; tick * step <= max + step / 2; tick++) {
      const x = left + tick * step * scale;
      out.push(
        `<line x1="${x.toFixed(1)}" y1="${top - 4}" x2="${x.toFixed(1)}" y2="${bottom}" class="grid"/>`,
        `<text x="${x.toFixed(1)}" y="${bottom + 13}" class="tick" text-anchor="middle">${short(tick * step)}</text>`,
      );
    }
    for (const row of rows) {
      const rowTop = rowY.get(row.app) as number;
      const result = inRoute.find((r) => r.app === row.app);
      if (result === undefined) {
        out.push(`<text x="${left + 4}" y="${rowTop + 11}" class="value">not measured</text>`);
        continue;
      }
      const width = result.reqPerSec * scale;
      const mid = rowTop + BAR / 2 + 1;
      const min = left + result.reqPerSecMin * scale;
      const maxX = left + result.reqPerSecMax * scale;
      out.push(
        `<rect x="${left}" y="${rowTop + 1}" width="${width.toFixed(1)}" height="${BAR}" fill="${colorOf(result)}"><title>${xml(`${result.app} ${route}: ${Math.round(result.reqPerSec)} req/s (min ${Math.round(result.reqPerSecMin)}, max ${Math.round(result.reqPerSecMax)})`)}</title></rect>`,
        `<path d="M${min.toFixed(1)} ${mid - 4}v8M${min.toFixed(1)} ${mid}H${maxX.toFixed(1)}M${maxX.toFixed(1)} ${mid - 4}v8" class="whisker"/>`,
        `<text x="${(Math.max(width, maxX - left) + left + 4).toFixed(1)}" y="${rowTop + 11}" class="value">${short(result.reqPerSec)}</text>`,
      );
    }
  }
  const height = bottom + 24;
  const load = (values: readonly number[]) => values.map((v) => v.toFixed(2)).join(" ");
  const subtitle = [
    `req/s at 64 connections, one session each: median of ${run.repetitions} interleaved repetitions (bar), min–max (whisker).`,
    `${run.mode === "quick" ? "pnpm bench --quick" : "pnpm bench"} on ${run.date}, ${run.measured === "dist" ? "built packages (dist)" : "TypeScript sources"}, load average ${load(run.loadAtStart)} at start, ${load(run.loadAtEnd)} at end.`,
  ];
  const hasPeers = results.some((r) => r.sessions !== "sessionkit" && r.sessions !== "none");
  const legend = [
    ["sessionkit", COLORS.sessionkit],
    ...(hasPeers ? [["peer session library", COLORS.peer] as const] : []),
    ["no session (ceiling)", COLORS.ceiling],
  ] as const;
  const legendItems = legend.map(
    ([text, color], i) =>
      `<rect x="${8 + i * 170}" y="60" width="10" height="10" fill="${color}"/><text x="${22 + i * 170}" y="69" class="label">${text}</text>`,
  );
  const title = `${TITLES[framework]}: sessionkit${hasPeers ? ", its peers" : ""} and the no-session ceilings`;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" role="img" aria-label="${xml(title)}" font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif">
<title>${xml(title)}</title>
<style>
.title{font-size:15px;font-weight:600;fill:#111}
.sub{font-size:10.5px;fill:#555}
.group{font-size:11.5px;font-weight:600;fill:#333}
.panel{font-size:11.5px;font-weight:600;fill:#333}
.label{font-size:11.5px;fill:#222}
.value{font-size:10.5px;fill:#333}
.tick{font-size:10px;fill:#777}
.grid{stroke:#e5e7eb;stroke-width:1}
.whisker{stroke:#111;stroke-width:1;fill:none}
</style>
<rect width="100%" height="100%" fill="#fff"/>
<text x="8" y="20" class="title">${xml(title)}</text>
<text x="8" y="36" class="sub">${xml(subtitle[0] as string)}</text>
<text x="8" y="49" class="sub">${xml(subtitle[1] as string)}</text>
${legendItems.join("\n")}
${out.join("\n")}
</svg>
`;
}
