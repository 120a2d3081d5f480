/** Fake people for generated data: names, e-mails and phone numbers (PII on purpose, for privacy stages). */
import type { Rng } from './rng.ts'

export const BR_FIRST = [
  'Ana',
  'João',
  'Maria',
  'Pedro',
  'Lucas',
  'Gabriel',
  'Juliana',
  'Fernanda',
  'Rafael',
  'Bruno',
  'Camila',
  'Larissa',
  'Mateus',
  'Beatriz',
  'Carlos',
  'Patrícia',
  'Thiago',
  'Amanda',
  'Felipe',
  'Mariana',
]
export const BR_LAST = [
  'Silva',
  'Santos',
  'Oliveira',
  'Souza',
  'Rodrigues',
  'Ferreira',
  'Alves',
  'Pereira',
  'Lima',
  'Gomes',
  'Costa',
  'Ribeiro',
  'Martins',
  'Carvalho',
  'Almeida',
]

export const BD_FIRST = [
  'Rahim',
  'Karim',
  'Fatema',
  'Nusrat',
  'Tanvir',
  'Sadia',
  'Arif',
  'Jannat',
  'Mahmud',
  'Ayesha',
  'Imran',
  'Farhana',
  'Rakib',
  'Sumaiya',
  'Hasan',
  'Nabila',
  'Shakib',
  'Tasnim',
  'Rifat',
  'Mim',
]
export const BD_LAST = [
  'Ahmed',
  'Hossain',
  'Islam',
  'Rahman',
  'Khan',
  'Chowdhury',
  'Akter',
  'Uddin',
  'Begum',
  'Sarker',
  'Miah',
  'Haque',
  'Talukder',
  'Siddique',
  'Alam',
]

const MAIL_DOMAINS = ['gmail.com', 'yahoo.com', 'outlook.com', 'example.com']

/** `n` random decimal digits (leading zeros kept), nine per draw. */
export function digits(rng: Rng, n: number): string {
  let s = ''
  while (s.length < n) s += String(Math.floor(rng.next() * 1e9)).padStart(9, '0')
  return s.length === n ? s : s.slice(0, n)
}

const asciiCache = new Map<string, string>()

/** Lower-case ASCII letters only (`João` → `joao`), for e-mail local parts. */
function ascii(text: string): string {
  let a = asciiCache.get(text)
  if (a === undefined) {
    a = text
      .normalize('NFD')
      .replace(/[^A-Za-z]/g, '')
      .toLowerCase()
    if (asciiCache.size < 10_000) asciiCache.set(text, a)
  }
  return a
}

export function email(rng: Rng, first: string, last: string): string {
  const sep = rng.pick(['.', '_', ''])
  return `${ascii(first)}${sep}${ascii(last)}${rng.chance(0.6) ? rng.int(1, 999) : ''}@${rng.pick(MAIL_DOMAINS)}`
}

/** Bangladesh mobile, E.164: +880 1[3-9] + 8 digits (e.g. +8801712345678). */
export function bdPhone(rng: Rng): string {
  return `+8801${rng.int(3, 9)}${digits(rng, 8)}`
}

/** São Paulo mobile, E.164: +55 11 9 + 8 digits. */
export function spPhone(rng: Rng): string {
  return `+55119${digits(rng, 8)}`
}

/** Mercosur plate: ABC1D23. */
export function plate(rng: Rng): string {
  const L = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ'
  const l = () => L[(rng.next() * 26) | 0]
  return `${l()}${l()}${l()}${rng.int(0, 9)}${l()}${digits(rng, 2)}`
}
