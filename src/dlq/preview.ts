/** Short, printable previews of record bytes for humans: text when it is text, hex when it is not. */

const utf8 = new TextDecoder('utf-8', { fatal: true })
// Control characters other than tab, newline and carriage return mark a value as binary.
// biome-ignore lint/suspicious/noControlCharactersInRegex: that is exactly what it looks for
const BINARY = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/

/**
 * `null` → `(null)`, empty → `(empty)`, UTF-8 text → the text with newlines escaped, cut to `max`
 * characters with `…`; anything else → `<binary N bytes> 8f 3a …` (the first bytes in hex).
 *
 * @example preview(Buffer.from('{"a":1}')) // '{"a":1}'
 */
export function preview(bytes: Buffer | null, max = 120): string {
  if (bytes === null) return '(null)'
  if (bytes.length === 0) return '(empty)'
  // Decode only what can be shown (4 bytes per character at most) so a 10 MB value stays cheap.
  const head = bytes.subarray(0, max * 4 + 4)
  const cut = head.length < bytes.length
  let text: string | undefined
  try {
    text = utf8.decode(head)
  } catch {
    // A cut through a multi-byte character at the end is not binary; retry without the last bytes.
    text = cut ? tryTrimmed(head) : undefined
  }
  if (text === undefined || BINARY.test(text)) {
    const hex = [...bytes.subarray(0, Math.min(bytes.length, Math.max(4, Math.floor(max / 3))))]
      .map((b) => b.toString(16).padStart(2, '0'))
      .join(' ')
    return `<binary ${bytes.length} bytes> ${hex}${bytes.length * 3 > max ? ' …' : ''}`
  }
  const flat = text.replace(/\r/g, '\\r').replace(/\n/g, '\\n').replace(/\t/g, '\\t')
  const chars = [...flat]
  return chars.length > max || cut ? `${chars.slice(0, max).join('')}…` : flat
}

function tryTrimmed(head: Buffer): string | undefined {
  for (let cut = 1; cut <= 3 && cut < head.length; cut++) {
    try {
      return utf8.decode(head.subarray(0, head.length - cut))
    } catch {
      // keep trimming
    }
  }
  return undefined
}
