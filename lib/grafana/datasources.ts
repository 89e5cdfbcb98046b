import { PropValidator } from '../core/validation';
import { toYaml } from '../core/yaml';

/** The uid of the provisioned Prometheus datasource: dashboards reference it as `{ type: 'prometheus', uid: 'prometheus' }`. */
export const PROMETHEUS_DATASOURCE_UID = 'prometheus';

/** Grafana's rule for dashboard, folder and datasource uids. */
export const UID_PATTERN = /^[A-Za-z0-9_-]{1,40}$/;
export const UID_RULE = "1 to 40 letters, digits, '-' or '_'";

/** One datasource of Grafana's provisioning file (apiVersion 1). */
export interface GrafanaDatasource {
  /** Name shown in Grafana; unique. */
  readonly name: string;
  /** Fixed uid dashboards reference; unique, 1 to 40 letters, digits, '-' or '_'. */
  readonly uid: string;
  /** Plugin id, e.g. `prometheus`, `loki`, `tempo`. */
  readonly type: string;
  /** URL of the backend, reached by the Grafana server (access `proxy`). */
  readonly url: string;
  /**
   * The default datasource of the organisation; Grafana refuses to start with two.
   * @default false
   */
  readonly isDefault?: boolean;
  /**
   * Plugin settings (`jsonData`); never put secrets here, they would land in dist/.
   * @default {}
   */
  readonly jsonData?: Record<string, unknown>;
}

/** Renders Grafana's datasource provisioning file. */
export function datasourcesYaml(datasources: readonly GrafanaDatasource[]): string {
  return toYaml({
    apiVersion: 1,
    datasources: datasources.map((d) => ({
      name: d.name,
      uid: d.uid,
      type: d.type,
      access: 'proxy',
      orgId: 1,
      url: d.url,
      isDefault: d.isDefault ?? false,
      // Provisioned from Git: edits in the UI would be lost at the next restart, so forbid them.
      editable: false,
      ...(d.jsonData && Object.keys(d.jsonData).length > 0 ? { jsonData: d.jsonData } : {}),
    })),
  });
}

/**
 * Records with `validator` what is wrong with adding `candidate` to `existing`: a bad name, uid,
 * type or url, a name or uid already taken, or a second default.
 */
export function checkDatasource(validator: PropValidator, existing: readonly GrafanaDatasource[], candidate: GrafanaDatasource): void {
  const prop = `datasource '${candidate.name}'`;
  validator.check(typeof candidate.name === 'string' && candidate.name.trim() !== '', `${prop} name`, candidate.name, 'a non-empty string');
  validator.check(typeof candidate.uid === 'string' && UID_PATTERN.test(candidate.uid), `${prop} uid`, candidate.uid, UID_RULE);
  validator.check(typeof candidate.type === 'string' && /^[a-z0-9][-a-z0-9]*$/.test(candidate.type), `${prop} type`, candidate.type, 'a plugin id such as prometheus, loki or tempo');
  validator.check(typeof candidate.url === 'string' && /^https?:\/\/\S+$/.test(candidate.url), `${prop} url`, candidate.url, 'an http:// or https:// URL');
  for (const d of existing) {
    validator.check(d.name !== candidate.name, `${prop} name`, candidate.name, 'unique (it is already taken)');
    validator.check(d.uid !== candidate.uid, `${prop} uid`, candidate.uid, `unique (it is already the uid of '${d.name}')`);
    validator.check(!(d.isDefault && candidate.isDefault), `${prop} isDefault`, candidate.isDefault, `false: '${d.name}' is already the default, and Grafana crash-loops on two default datasources`);
  }
}
