// Command-line numbers of the benchmarks, checked as they are read.

export function positiveList(text: string, what: string): number[] {
  const list = text.split(',').map(s => s.trim()).filter(s => s !== '').map(Number)
  if (list.length === 0 || list.some(n => !Number.isInteger(n) || n <= 0)) throw new Error(`${what}: "${text}" is not a list of positive whole numbers`)
  return list
}

export function positive(text: string | undefined, fallback: number, what: string): number {
  if (text === undefined || text === '') return fallback
  const n = Number(text)
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${what}: "${text}" is not a positive number`)
  return n
}
