import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { load, loadAll } from 'js-yaml';
import { checkConfig, loadConfig } from '../../config/load.js';
import { findBinary } from '../../fixtures/binaries.js';
import { tempDir } from '../support/day.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const exec = promisify(execFile);
const read = (path: string) => readFileSync(join(root, path), 'utf8');
type Doc = Record<string, unknown>;

describe('container files (no Docker engine here: what can be checked without one)', () => {
  const dockerfile = read('Dockerfile');

  it('copies only paths that exist, builds the product only, and runs the daemon as a non-root user', () => {
    for (const m of dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)) {
      for (const path of m[1].split(/\s+/))
        expect(existsSync(join(root, path)), path).to.equal(true);
    }
    expect(dockerfile).to.match(/npm ci --omit=dev/);
    expect(dockerfile).to.match(/^RUN npm run build$/m);
    expect(dockerfile).to.not.match(/^COPY (test|bench|scripts) /m);
    expect(dockerfile).to.match(/^USER node$/m);
    expect(dockerfile).to.match(/^ENV RECON_CONFIG=\/config\/recon.config.yaml$/m);
    expect(dockerfile).to.match(
      /^COPY deploy\/docker\/recon.config.yaml \/config\/recon.config.yaml$/m,
    );
    expect(dockerfile).to.match(/^CMD \["daemon"\]$/m);
    expect(dockerfile.match(/^FROM /gm)).to.have.length(2);
  });

  it('pins the Node base image to the minor version of .nvmrc (what CI tests)', () => {
    const [major, minor] = read('.nvmrc').trim().split('.');
    expect(dockerfile).to.match(new RegExp(`^ARG NODE_VERSION=${major}\\.${minor}$`, 'm'));
    for (const m of dockerfile.matchAll(/^FROM (\S+)/gm))
      expect(m[1]).to.equal('node:${NODE_VERSION}-slim');
  });

  it('health-checks through `recon healthcheck`, which follows health.port and health.enabled of the same config', () => {
    const check = /^HEALTHCHECK [^\n]*\\\n\s+CMD (\[.*\])$/m.exec(dockerfile);
    expect(check, 'HEALTHCHECK').to.not.equal(null);
    expect(JSON.parse(check![1])).to.deep.equal([
      'node',
      '/app/dist/core/cli.js',
      'healthcheck',
      '--timeout',
      '5',
    ]);
    expect(check![0]).to.not.contain('9464');
  });

  it('bakes in a config the daemon can run, with every path under /data', async () => {
    const loaded = await loadConfig({
      path: join(root, 'deploy/docker/recon.config.yaml'),
      env: { MONGO_URI: 'mongodb://mongo:27017/' },
    });
    const check = await checkConfig(loaded);
    expect(check.daemonProblem).to.equal(null);
    expect(loaded.config.health).to.deep.include({ enabled: true, host: '0.0.0.0', port: 9464 });
    for (const s of loaded.config.sources) {
      expect(s.fetch.type).to.equal('local');
      if (s.fetch.type === 'local') {
        expect(s.fetch.dir).to.equal('/data/incoming');
        expect(s.fetch.stagingDir).to.match(/^\/data\/staging\//);
      }
    }
    expect(dockerfile).to.contain('mkdir -p /data/incoming /data/staging');
  });

  it('ships a compose file with restart policy, init, a database health check, start order on health, and pinned images', async () => {
    const { config } = await loadConfig({
      path: join(root, 'compose/recon.config.yaml'),
      env: {
        MONGO_URI: 'mongodb://mongo:27017/',
        SFTP_PASSWORD: 'p',
        SFTP_FINGERPRINT: `SHA256:${'A'.repeat(43)}`,
        ZIP_PASSWORD: 'z',
      },
    });
    expect(config.schedule?.cron).to.equal('0 30 7 * * *');
    expect(
      config.sources.every((s) => s.fetch.type === 'sftp' && s.fetch.remoteDir === '/upload'),
    ).to.equal(true);
    const compose = load(read('docker-compose.yaml')) as { services: Record<string, Doc> };
    expect(Object.keys(compose.services)).to.deep.equal(['mongo', 'sftp', 'recon']);
    for (const [name, service] of Object.entries(compose.services)) {
      expect(service.restart, name).to.equal('unless-stopped');
      expect(service.init, name).to.equal(true);
      if (service.image !== undefined)
        expect(service.image, name).to.match(/^[a-z0-9/._-]+:\d+\.\d+[\w.-]*$/);
      else
        expect(existsSync(join(root, service.build as string, 'Dockerfile')), name).to.equal(true);
    }
    expect((compose.services.mongo.healthcheck as Doc).test)
      .to.be.an('array')
      .that.includes('mongosh');
    expect(compose.services.recon.depends_on).to.deep.equal({
      mongo: { condition: 'service_healthy' },
      sftp: { condition: 'service_healthy' },
    });
    const sftpDockerfile = read('compose/sftp/Dockerfile');
    expect(sftpDockerfile).to.match(/^FROM debian:\d+\.\d+-slim$/m);
    expect(read('compose/sftp/sshd_config')).to.match(/^\s*ChrootDirectory \/home\/recon$/m);
  });
});

/**
 * The Kubernetes field names the manifests use, from the API reference (batch/v1 CronJob, v1
 * Secret, kustomize Kustomization): a misspelt or misplaced field fails here, not at apply time.
 * `*` is any key (maps such as labels); a nested object describes an object or each array item.
 */
type Fields = { [key: string]: Fields | true };
const ANY: Fields = { '*': true };
const METADATA: Fields = { name: true, namespace: true, labels: ANY, annotations: ANY };
const CONTAINER: Fields = {
  name: true,
  image: true,
  imagePullPolicy: true,
  command: true,
  args: true,
  workingDir: true,
  env: { name: true, value: true, valueFrom: true },
  envFrom: {
    secretRef: { name: true, optional: true },
    configMapRef: { name: true, optional: true },
    prefix: true,
  },
  resources: { requests: ANY, limits: ANY },
  securityContext: {
    allowPrivilegeEscalation: true,
    readOnlyRootFilesystem: true,
    runAsNonRoot: true,
    runAsUser: true,
    runAsGroup: true,
    capabilities: { drop: true, add: true },
    seccompProfile: { type: true },
  },
  volumeMounts: { name: true, mountPath: true, readOnly: true, subPath: true },
};
const POD_SPEC: Fields = {
  restartPolicy: true,
  serviceAccountName: true,
  nodeSelector: ANY,
  imagePullSecrets: { name: true },
  securityContext: {
    runAsNonRoot: true,
    runAsUser: true,
    runAsGroup: true,
    fsGroup: true,
    seccompProfile: { type: true },
  },
  containers: CONTAINER,
  initContainers: CONTAINER,
  volumes: {
    name: true,
    configMap: { name: true, items: { key: true, path: true }, defaultMode: true },
    secret: { secretName: true, defaultMode: true },
    emptyDir: { medium: true, sizeLimit: true },
    persistentVolumeClaim: { claimName: true, readOnly: true },
  },
};
const KINDS: Record<string, Fields> = {
  'batch/v1 CronJob': {
    apiVersion: true,
    kind: true,
    metadata: METADATA,
    spec: {
      schedule: true,
      timeZone: true,
      concurrencyPolicy: true,
      startingDeadlineSeconds: true,
      suspend: true,
      successfulJobsHistoryLimit: true,
      failedJobsHistoryLimit: true,
      jobTemplate: {
        metadata: METADATA,
        spec: {
          backoffLimit: true,
          activeDeadlineSeconds: true,
          ttlSecondsAfterFinished: true,
          parallelism: true,
          completions: true,
          podFailurePolicy: {
            rules: {
              action: true,
              onExitCodes: { containerName: true, operator: true, values: true },
              onPodConditions: { type: true, status: true },
            },
          },
          template: { metadata: METADATA, spec: POD_SPEC },
        },
      },
    },
  },
  'v1 Secret': {
    apiVersion: true,
    kind: true,
    metadata: METADATA,
    type: true,
    stringData: ANY,
    data: ANY,
  },
  'kustomize.config.k8s.io/v1beta1 Kustomization': {
    apiVersion: true,
    kind: true,
    resources: true,
    namespace: true,
    configMapGenerator: { name: true, files: true, literals: true },
    generatorOptions: { disableNameSuffixHash: true, labels: ANY },
  },
};

function unknownFields(value: unknown, fields: Fields, at: string): string[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => unknownFields(v, fields, `${at}[${i}]`));
  if (typeof value !== 'object' || value === null || fields['*'] === true) return [];
  return Object.entries(value).flatMap(([k, v]) => {
    const sub = fields[k];
    if (sub === undefined) return [`${at}.${k}`];
    return sub === true ? [] : unknownFields(v, sub, `${at}.${k}`);
  });
}

describe('deploy/: Kubernetes and Airflow (checked without a cluster or an Airflow)', () => {
  const docs = (file: string) => loadAll(read(`deploy/kubernetes/${file}`)) as Doc[];

  it('uses only Kubernetes field names of the kinds it declares', () => {
    for (const file of ['cronjob.yaml', 'secret.example.yaml', 'kustomization.yaml']) {
      for (const doc of docs(file)) {
        const fields = KINDS[`${doc.apiVersion} ${doc.kind}`];
        expect(fields, `${file}: ${doc.apiVersion} ${doc.kind}`).to.not.equal(undefined);
        expect(unknownFields(doc, fields, file)).to.deep.equal([]);
      }
    }
    // The check itself: a misspelt field is caught.
    expect(
      unknownFields(
        { spec: { jobTemplate: { spec: { template: { spec: { restartpolicy: 'Never' } } } } } },
        KINDS['batch/v1 CronJob'],
        'x',
      ),
    ).to.deep.equal(['x.spec.jobTemplate.spec.template.spec.restartpolicy']);
  });

  it('runs `recon run --json` from the image with the config from the ConfigMap and secrets from the Secret, retrying only exit 4', async () => {
    const [cron] = docs('cronjob.yaml') as [
      {
        spec: {
          concurrencyPolicy: string;
          jobTemplate: {
            spec: {
              podFailurePolicy: { rules: Doc[] };
              template: { spec: { restartPolicy: string; containers: Doc[]; volumes: Doc[] } };
            };
          };
        };
      },
    ];
    const job = cron.spec.jobTemplate.spec;
    const pod = job.template.spec;
    const [container] = pod.containers as [
      { image: string; args: string[]; env: Doc[]; envFrom: Doc[]; volumeMounts: Doc[] },
    ];
    expect(container.image).to.match(/^brokerage-recon:/);
    expect(container.args).to.deep.equal(['run', '--json']);
    expect(container.env).to.deep.include({
      name: 'RECON_CONFIG',
      value: '/config/recon.config.yaml',
    });
    expect(container.envFrom).to.deep.equal([{ secretRef: { name: 'recon-secrets' } }]);
    expect(container.volumeMounts).to.deep.include({
      name: 'config',
      mountPath: '/config',
      readOnly: true,
    });
    expect(pod.volumes).to.deep.include({ name: 'config', configMap: { name: 'recon-config' } });
    expect(pod.restartPolicy).to.equal('Never');
    expect(cron.spec.concurrencyPolicy).to.equal('Forbid');
    expect(job.podFailurePolicy.rules).to.deep.equal([
      {
        action: 'FailJob',
        onExitCodes: { containerName: 'recon', operator: 'NotIn', values: [4] },
      },
    ]);
    const kustomization = docs('kustomization.yaml')[0] as {
      configMapGenerator: { name: string; files: string[] }[];
      resources: string[];
    };
    expect(kustomization.configMapGenerator).to.deep.equal([
      { name: 'recon-config', files: ['recon.config.yaml'] },
    ]);
    expect(kustomization.resources).to.not.include('secret.example.yaml');
    // Every variable the config needs is a key of the Secret, and the config loads with them.
    const secret = docs('secret.example.yaml')[0] as { stringData: Record<string, string> };
    const wanted = [
      ...read('deploy/kubernetes/recon.config.yaml').matchAll(/\$\{([A-Z_]+)\}/g),
    ].map((m) => m[1]);
    expect([...new Set(wanted)].sort()).to.deep.equal(Object.keys(secret.stringData).sort());
    const loaded = await loadConfig({
      path: join(root, 'deploy/kubernetes/recon.config.yaml'),
      env: secret.stringData,
    });
    expect((await checkConfig(loaded)).plugins).to.deep.equal(['CAMS: cams', 'KARVY: karvy']);
  });

  it('has an Airflow DAG that compiles (python3 -m py_compile), one task, retried only on exit 4', async () => {
    const dag = 'deploy/airflow/brokerage_recon_dag.py';
    const cache = await tempDir('pycache');
    try {
      const python = findBinary('python3', 'RECON_TEST_PYTHON');
      const r = await exec(python, ['-m', 'py_compile', join(root, dag)], {
        env: { ...process.env, PYTHONPYCACHEPREFIX: cache },
      });
      expect(r.stderr).to.equal('');
    } finally {
      await rm(cache, { recursive: true, force: true });
    }
    const source = read(dag);
    expect(source.match(/^def \w+\(/gm)).to.deep.equal(['def reconcile(']);
    expect(source).to.contain('[command, "run", "--json"]');
    expect(source).to.match(/^RETRYABLE_EXIT = 4$/m);
    expect(source).to.match(
      /if result\.returncode == RETRYABLE_EXIT:\n\s+raise AirflowException\(/,
    );
    expect(source).to.match(/raise AirflowFailException\(message\)/);
  });
});
