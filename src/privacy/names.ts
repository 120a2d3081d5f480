/**
 * Personal names without a language model: a gazetteer of common first names (Bangladeshi, in Latin
 * script, and English) and honorifics. A name is a known first name or an honorific followed by one or
 * two capitalised words, or the whole value of a field that holds a person's name (`author`,
 * `customer_name`, …). Capitalised phrases alone ("Samsung Galaxy", "Best Deal", "Dhaka City") are not
 * names: the seed's "capitalised pattern" rule hashed every product and city, which destroyed the data
 * the later stages need.
 */
const FIRST_NAMES = `
rahim karim fatema fatima nusrat tanvir sadia arif jannat mahmud ayesha imran farhana rakib sumaiya hasan
nabila shakib tasnim rifat mim abdul abul anwar asif aminul babul habib hasib jahid kamal kamrul masud
mehedi mizanur monir nasir rashed rubel sabbir saiful shafiq shahid sohel sumon tariq touhid zahid ziaul
anika farzana lamia maliha nasrin nazia rumana sabina salma shirin sharmin shammi taslima tania mahi
rafiq faisal farhan sakib mahfuz sajid naim nayeem riad rony sharif tamim emon jubayer ashraf moinul
rina shila sonia moushumi popy puja priya rupa ananya joy bijoy dipu sourav pritom arnob
john jane james mary robert michael william david richard joseph thomas charles sarah jennifer linda
elizabeth susan jessica karen nancy lisa emily emma olivia sophia daniel matthew anthony mark paul steven
andrew peter kevin brian george edward alice anna laura kate alex chris
`
  .trim()
  .split(/\s+/)

const FIRST = new Set(FIRST_NAMES)

/** Titles that start a name: "Md. Rahim", "Mr Khan", "Dr. Ayesha Siddiqua". */
const HONORIFICS = new Set([
  'md',
  'mohammad',
  'mohammed',
  'muhammad',
  'mr',
  'mrs',
  'ms',
  'miss',
  'dr',
  'sheikh',
])

/** Field names whose whole value is a person's name. */
export const NAME_FIELDS =
  /^(author|author_name|customer_name|customer|name|full_name|first_name|last_name|seller_name|buyer_name|recipient|recipient_name|contact_name|user_name|username_display)$/i

export function isKnownFirstName(word: string): boolean {
  return FIRST.has(word.toLowerCase())
}

export function isHonorific(word: string): boolean {
  return HONORIFICS.has(word.toLowerCase().replace(/\.$/, ''))
}

const CANDIDATE =
  /(?<![\p{L}\p{N}_@.])(?:(?:Md|Mohammad|Mohammed|Muhammad|Mr|Mrs|Ms|Miss|Dr|Sheikh)\.?\s+)?\p{Lu}[\p{Ll}'’-]+(?:\s+\p{Lu}[\p{Ll}'’-]+){0,2}/gu

/**
 * Spans of personal names in free text: a known first name or an honorific, with the capitalised
 * words that follow it (the surname), e.g. "call Rahim Ahmed" → "Rahim Ahmed". A lone known first name
 * counts only when followed by a surname or preceded by a cue ("I am", "name is", "contact").
 */
export function findNames(text: string): Array<{ start: number; end: number }> {
  const out: Array<{ start: number; end: number }> = []
  CANDIDATE.lastIndex = 0
  for (let m = CANDIDATE.exec(text); m !== null; m = CANDIDATE.exec(text)) {
    const words = m[0].split(/\s+/)
    let start = m.index
    let first = 0
    // Skip capitalised words before the name ("Call Rahim Ahmed" → "Rahim Ahmed").
    while (first < words.length && !isHonorific(words[first]!) && !isKnownFirstName(words[first]!)) {
      start += words[first]!.length
      while (/\s/.test(text[start] ?? '')) start++
      first++
    }
    if (first >= words.length) continue
    const rest = words.length - first
    const honorific = isHonorific(words[first]!)
    if (rest === 1 && !cued(text, start)) continue
    if (honorific && rest === 1) continue
    out.push({ start, end: m.index + m[0].length })
  }
  return out
}

const CUES =
  /(?:\bi am|\bi'm|\bname is|\bnam|\bcontact|\bcall|\bmessage|\bask for|\bfrom|\bby|\bthanks|\bregards|\bami|amar nam)\s*[:,-]?\s*$/i

function cued(text: string, start: number): boolean {
  return CUES.test(text.slice(Math.max(0, start - 20), start))
}
