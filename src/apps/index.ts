import { ErrorCode, WeirError } from '../core/errors.ts'
import type { WeirApp } from './app.ts'

/** The bundled apps, by the name `weir run <name>` takes. Loaded lazily so each pulls only its own deps. */
const loaders: Record<string, () => Promise<WeirApp>> = {
  traffic: async () => (await import('./traffic/app.ts')).trafficApp,
  'traffic-windows': async () => (await import('./traffic-windows/app.ts')).trafficWindowsApp,
  millionx: async () => (await import('./millionx/app.ts')).millionxApp,
  rideshare: async () => (await import('./rideshare/app.ts')).rideshareApp,
  streampulse: async () => (await import('./streampulse/app.ts')).streamPulseApp,
}

export function appNames(): string[] {
  return Object.keys(loaders)
}

export async function loadApp(name: string | undefined): Promise<WeirApp> {
  const load = name === undefined ? undefined : loaders[name]
  if (load === undefined) {
    throw new WeirError(
      ErrorCode.CONFIG_INVALID,
      `${name === undefined ? 'no app given' : `unknown app "${name}"`}; bundled apps: ${appNames().join(', ')}`,
    )
  }
  return load()
}

export function registerApp(name: string, load: () => Promise<WeirApp>): void {
  loaders[name] = load
}
