// Kept over client-node 2.0.1's quantityToScalar: it is not exported from the package root, throws on valid fractions with a large suffix ("1.5Gi", "1.5k": no BigInt of 1.5) and gives floats for m, u and n ("100n" is 1e-7), where the revision hash needs one exact value.
// Kubernetes resource quantities in one canonical form, because the API server rewrites what the user
// wrote ("0.5" comes back as "500m", "1024Mi" as "1Gi") and the revision must not see a change.
// In kube/, not api/: a Kubernetes value format, read by revision.ts.

const QUANTITY_RE = /^([+-]?)([0-9]*)(?:\.([0-9]*))?(?:([eE][+-]?[0-9]+)|(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E))?$/

const DECIMAL_EXPONENT: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 }
const BINARY_EXPONENT: Record<string, number> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 }

function scaled(digits: bigint, tenPower: number, twoPower: number): bigint {
  let value = digits * 2n ** BigInt(twoPower)
  if (tenPower >= 0) return value * 10n ** BigInt(tenPower)
  const divisor = 10n ** BigInt(-tenPower)
  // The API server rounds sub-nano amounts up; so do we.
  value = value / divisor + (value % divisor === 0n ? 0n : 1n)
  return value
}

/** The value in nano-units as a decimal string, e.g. "500m" and "0.5" → "500000000"; undefined if not a quantity. */
export function canonicalQuantity(input: string | number): string | undefined {
  const text = String(input).trim()
  const match = QUANTITY_RE.exec(text)
  if (!match) return undefined
  const [, sign = '', whole = '', fraction = '', exponent, suffix = ''] = match
  if (whole === '' && fraction === '') return undefined
  const digits = BigInt(`${whole}${fraction}` || '0')
  const tenPower = 9 - fraction.length + (exponent ? Number(exponent.slice(1)) : DECIMAL_EXPONENT[suffix] ?? 0)
  const nano = scaled(digits, tenPower, BINARY_EXPONENT[suffix] ?? 0)
  return `${sign === '-' && nano !== 0n ? '-' : ''}${nano}`
}
