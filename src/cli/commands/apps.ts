import { appNames, loadApp } from '../../apps/index.ts'

export default async function apps(): Promise<number> {
  for (const name of appNames()) {
    const app = await loadApp(name)
    process.stdout.write(`${name.padEnd(18)} ${app.description}\n`)
  }
  return 0
}
