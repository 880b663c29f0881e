// The metrics package's public surface.
export * from './provider.ts'
export * from './prometheus.ts'
export * from './registry.ts'
export * from './builtin.ts'
export * from './template.ts'
export * from './verdict.ts'
export * from './analysis.ts'
export * from './health.ts'
