// The frame of every page: one stylesheet inline (small, no request), the client script, a place for notices.
import { esc } from './html.ts'

const STYLE = `
:root { --fg: #1d2330; --muted: #5b6475; --line: #d9dee7; --bg: #f6f7f9; --ok: #1a7f37; --bad: #c62828; --run: #1f5fbf; --band: #dff3e4; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); }
header { display: flex; align-items: baseline; gap: 16px; padding: 10px 20px; background: #18202e; color: #fff; }
header a { color: #fff; text-decoration: none; font-weight: 600; }
header .scope { color: #b9c2d3; font-size: 13px; }
header .live { margin-left: auto; font-size: 12px; color: #b9c2d3; }
header .live.on::before { content: "● "; color: #4cd07d; }
main { max-width: 1280px; margin: 0 auto; padding: 12px 20px 40px; }
h1 { font-size: 20px; margin: 6px 0 10px; }
h2 { font-size: 15px; margin: 18px 0 6px; color: var(--muted); text-transform: uppercase; letter-spacing: .04em; }
section, .card { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 10px 14px; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th { text-align: left; font-weight: 600; color: var(--muted); font-size: 12px; border-bottom: 1px solid var(--line); padding: 4px 8px; }
td { border-bottom: 1px solid #eef0f4; padding: 4px 8px; vertical-align: top; }
tr:last-child td { border-bottom: none; }
.grid { display: grid; grid-template-columns: minmax(340px, 1fr) minmax(420px, 1.3fr); gap: 14px; align-items: start; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 3px 14px; margin: 0; }
dt { color: var(--muted); }
dd { margin: 0; }
.phase { font-weight: 600; padding: 1px 8px; border-radius: 10px; background: #e8edf6; color: var(--run); }
.phase.Succeeded, .phase.Initialized { background: #e3f4e8; color: var(--ok); }
.phase.Failed { background: #fbe5e5; color: var(--bad); }
.verdict-pass { color: var(--ok); } .verdict-fail, .verdict-error, .verdict-no-data, .Warning { color: var(--bad); }
tr.now td { background: #eef4ff; font-weight: 600; } tr.done td { color: var(--muted); }
.mark { width: 1.5em; }
.charts { display: grid; gap: 8px; }
svg.chart { width: 100%; height: auto; background: #fff; }
svg .frame { fill: none; stroke: var(--line); } svg .band { fill: var(--band); }
svg .line { fill: none; stroke: var(--run); stroke-width: 2; } svg .dot { fill: var(--ok); } svg .dot.fail { fill: var(--bad); }
svg .tick, svg .nodata { font-size: 10px; fill: var(--muted); } svg .title { font-size: 12px; font-weight: 600; fill: var(--fg); }
.actions { display: flex; flex-wrap: wrap; gap: 8px; }
button { font: inherit; padding: 5px 14px; border-radius: 5px; border: 1px solid #9aa5b8; background: #fff; cursor: pointer; }
button:disabled { opacity: .45; cursor: not-allowed; }
button.danger { border-color: var(--bad); color: var(--bad); }
#notice:empty { display: none; }
#notice { margin: 8px 0; padding: 8px 12px; border-radius: 6px; white-space: pre-wrap; }
#notice.ok { background: #e3f4e8; border: 1px solid #9fd3ae; }
#notice.refused { background: #fbe5e5; border: 1px solid #e6a3a3; }
.muted { color: var(--muted); }
dialog { border: 1px solid var(--line); border-radius: 8px; padding: 16px 20px; max-width: 560px; box-shadow: 0 8px 30px rgba(0,0,0,.25); }
dialog::backdrop { background: rgba(20, 26, 38, .45); }
dialog p { white-space: pre-wrap; margin-top: 0; }
dialog menu { display: flex; justify-content: flex-end; gap: 8px; padding: 0; margin: 14px 0 0; }
`

export interface Frame {
  readonly title: string
  /** "namespace shop", "all namespaces". */
  readonly scope: string
  /** The event stream the page follows. */
  readonly live: string
  readonly body: string
}

export function page(f: Frame): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(f.title)} · sluice</title><style>${STYLE}</style>
<script src="/dashboard.js" defer></script></head>
<body data-live="${esc(f.live)}">
<header><a href="/">sluice</a><span class="scope">${esc(f.scope)}</span><span class="live" id="live">connecting…</span></header>
<main><div id="notice" role="status"></div>
${f.body}
</main>
<dialog id="confirm"><form method="dialog"><p id="confirm-text"></p>
<label id="confirm-full" hidden><input type="checkbox" id="confirm-check"> I understand: no analysis, the new version is promoted whatever its checks say</label>
<menu><button value="no" id="confirm-no">Cancel</button><button value="yes" id="confirm-yes" class="danger">Confirm</button></menu></form></dialog>
</body></html>
`
}
