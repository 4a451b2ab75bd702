// `npm run build`: the browser bundles in dist/, from npm packages only (nothing is fetched at run time).
//   dist/modeler.js + modeler.css   bpmn-js Modeler, Camunda properties panel, 医保引擎 group, bpmnlint (recommended)
//   dist/viewer.js + viewer.css     bpmn-js NavigatedViewer for the case page
//   dist/dmn-editor.js + .css       dmn-js decision-table editor (entries in Python) for the 决策表 page
//   dist/charts.js                  ECharts for <div class="chart" data-chart='…'>
//   dist/htmx.min.js                copied from the htmx.org package
//   dist/app.css                    the server-rendered pages' stylesheet
//   dist/fonts/                     the bpmn and dmn icon fonts, referenced by the stylesheets above
import * as esbuild from 'esbuild';
import { copyFileSync, mkdirSync, rmSync, statSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, 'dist');
const require = createRequire(import.meta.url);

// bpmnlint's recommended config, bundled statically: one import per rule, served by bpmnlint's StaticResolver.
const bpmnlintRecommended = {
  name: 'bpmnlint-recommended',
  setup(build) {
    build.onResolve({ filter: /^virtual:bpmnlint-recommended$/ }, (args) => ({ path: args.path, namespace: 'bpmnlint' }));
    build.onLoad({ filter: /.*/, namespace: 'bpmnlint' }, () => {
      const { rules } = require('bpmnlint/config/recommended');
      const names = Object.keys(rules);
      const contents = [
        "import StaticResolver from 'bpmnlint/lib/resolver/static-resolver';",
        ...names.map((name, i) => `import rule${i} from 'bpmnlint/rules/${name}';`),
        `const rules = ${JSON.stringify(rules)};`,
        'const cache = {',
        ...names.map((name, i) => `  ${JSON.stringify(`rule:bpmnlint/${name}`)}: rule${i},`),
        "  'config:bpmnlint/recommended': { rules },",
        '};',
        "export const config = { extends: 'bpmnlint:recommended' };",
        'export const resolver = new StaticResolver(cache);',
        'export default { config, resolver };',
      ].join('\n');
      return { contents, resolveDir: here, loader: 'js' };
    });
  },
};

const common = {
  bundle: true,
  minify: true,
  format: 'iife',
  target: ['es2020', 'chrome100', 'firefox100', 'safari15', 'edge100'],
  charset: 'utf8', // keep the Chinese text readable in the bundles
  legalComments: 'linked',
  logLevel: 'warning',
  define: { 'process.env.NODE_ENV': '"production"' },
  jsx: 'automatic',
  jsxImportSource: '@bpmn-io/properties-panel/preact',
  loader: { '.woff': 'file', '.woff2': 'file', '.ttf': 'file', '.eot': 'file', '.svg': 'file' },
  assetNames: 'fonts/[name]-[hash]',
  outdir: dist,
  plugins: [bpmnlintRecommended],
  metafile: true,
};

rmSync(dist, { recursive: true, force: true });
mkdirSync(dist, { recursive: true });

const builds = await Promise.all([
  esbuild.build({ ...common, entryPoints: { modeler: 'src/modeler/index.js' } }),
  esbuild.build({ ...common, entryPoints: { viewer: 'src/viewer/index.js' } }),
  esbuild.build({ ...common, entryPoints: { 'dmn-editor': 'src/dmn-editor/index.js' } }),
  esbuild.build({ ...common, entryPoints: { charts: 'src/charts.js' } }),
  esbuild.build({ ...common, entryPoints: { app: 'src/app.css' } }),
]);
const warnings = builds.flatMap((result) => result.warnings);

copyFileSync(require.resolve('htmx.org/dist/htmx.min.js'), join(dist, 'htmx.min.js'));

const sizes = readdirSync(dist).filter((name) => /\.(js|css)$/.test(name)).sort()
  .map((name) => `${name.padEnd(16)} ${(statSync(join(dist, name)).size / 1024).toFixed(0).padStart(6)} KiB`);
console.log(`dist/\n  ${sizes.join('\n  ')}`);
if (warnings.length) console.log(`${warnings.length} esbuild warning(s)`);
