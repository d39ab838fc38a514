// The type a dashboard JSON file must have, from Grafana's published schema
// (@grafana/schema, pinned in package.json). tests/monitoring/grafana_schema.sh
// generates, for each monitoring/grafana/*.json,
//
//   import type { DashboardJson } from './dashboard-json';
//   export const dashboard: DashboardJson = <the file's JSON>;
//
// and runs `tsc --noEmit --strict` over it and this file.
import type { Dashboard } from '@grafana/schema';

// JSON cannot name a TypeScript enum member: where the schema has a string
// enum (thresholds `mode: ThresholdsMode`, `color.mode: FieldColorModeId`,
// value mappings' `type`), a JSON file has the enum's value ("absolute").
// Json<T> is T with every string enum replaced by the union of its values;
// everything else (required fields, types, unknown keys) is checked as is.
export type Json<T> =
  0 extends (1 & T) ? T :  // `any` stays `any`
  T extends string ? `${T}` :
  T extends number | boolean | null | undefined ? T :
  T extends ReadonlyArray<infer U> ? Array<Json<U>> :
  T extends object ? { [K in keyof T]: Json<T[K]> } :
  T;

export type DashboardJson = Json<Dashboard>;

// Controls: each declaration below is wrong and must fail to type-check. If
// one did not (say Dashboard resolved to `any`), tsc reports its expect-error
// directive as unused and the check fails: it cannot pass by checking nothing.
// @ts-expect-error schemaVersion is a number
export const wrongType: DashboardJson = { schemaVersion: '39' };
// @ts-expect-error there is no field `titel`
export const unknownKey: DashboardJson = { schemaVersion: 39, titel: 'distill' };
// @ts-expect-error a panel needs a `type`
export const missingField: DashboardJson = { schemaVersion: 39, panels: [{ title: 'loss' }] };
// @ts-expect-error "absolut" is no ThresholdsMode value
export const wrongEnum: DashboardJson = { schemaVersion: 39, panels: [{ type: 'stat', fieldConfig: { defaults: { thresholds: { mode: 'absolut', steps: [] } }, overrides: [] } }] };
