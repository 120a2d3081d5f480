/**
 * Card number checks: the Luhn checksum and the issuer ranges (IIN) with their lengths. Both must pass,
 * so a 15-digit marketplace order id or a 19-digit post id is not taken for a card: Luhn alone passes one
 * random number in ten, an issuer prefix with a matching length cuts that to a few in a thousand.
 *
 * @example
 * isCardNumber('4111111111111111') // true
 * isCardNumber('123456789012345')  // false
 */

/** The Luhn (mod 10) checksum over a string of digits. */
export function luhnValid(digits: string): boolean {
  let sum = 0
  let double = false
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48
    if (d < 0 || d > 9) return false
    if (double) {
      d *= 2
      if (d > 9) d -= 9
    }
    sum += d
    double = !double
  }
  return digits.length > 0 && sum % 10 === 0
}

/** Issuer prefixes and the lengths they issue (Visa, Mastercard, Amex, Discover, JCB, UnionPay, Diners). */
function issuerLengths(d: string): readonly number[] {
  const p2 = Number(d.slice(0, 2))
  const p3 = Number(d.slice(0, 3))
  const p4 = Number(d.slice(0, 4))
  if (d[0] === '4') return [13, 16, 19]
  if ((p2 >= 51 && p2 <= 55) || (p4 >= 2221 && p4 <= 2720)) return [16]
  if (p2 === 34 || p2 === 37) return [15]
  if (p4 === 6011 || p2 === 65 || (p3 >= 644 && p3 <= 649)) return [16, 19]
  if (p4 >= 3528 && p4 <= 3589) return [16, 19]
  if (p2 === 62) return [16, 17, 18, 19]
  if (p2 === 36 || p2 === 38 || (p3 >= 300 && p3 <= 305)) return [14, 16]
  return []
}

/** Digits only (separators removed): a known issuer, a length it issues, and a valid checksum. */
export function isCardNumber(digits: string): boolean {
  return issuerLengths(digits).includes(digits.length) && luhnValid(digits)
}
