// The peer benchmark's markdown tables: a header row, its alignment row (the first column left, the figures right),
// then the rows.
export function markdownTable(head: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const line = (cells: readonly string[]): string => `| ${cells.join(' | ')} |`
  return [line(head), `|${head.map((_, i) => i === 0 ? ' --- ' : ' ---: ').join('|')}|`, ...rows.map(line)]
}
