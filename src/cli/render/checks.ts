// A check record of status.checks in the words and units the controller's messages use.
import type { CheckRecord, ThresholdRange } from '../../api/types.ts'
import { amount } from '../../controller/machine/checks.ts'

export function valueText(r: CheckRecord): string {
  return r.value === null || r.value === undefined ? '-' : amount(r.value, r.name)
}

export function rangeText(range: ThresholdRange | undefined, name: string): string {
  if (!range) return '-'
  const { min, max } = range
  if (min !== undefined && max !== undefined) return `${amount(min, name)} to ${amount(max, name)}`
  if (min !== undefined) return `min ${amount(min, name)}`
  return max !== undefined ? `max ${amount(max, name)}` : '-'
}
