import { appNames, loadApp } from '../../apps/index.ts'
import type { CommandSpec } from '../args.ts'

export const spec: CommandSpec = { usage: 'usage: weir apps\n\nLists the bundled apps.', flags: {} }

export default async function apps(): Promise<number> {
  for (const name of appNames()) {
    const app = await loadApp(name)
    process.stdout.write(`${name.padEnd(18)} ${app.description}\n`)
  }
  return 0
}
