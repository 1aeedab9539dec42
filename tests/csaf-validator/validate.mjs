// Runs BSI's secvisogram csaf-validator-lib over CSAF 2.0 documents, one JSON file per argument.
//
// The library is installed by `make csaf-validator` outside this folder (it is not committed); its
// node_modules folder is named by CSAF_VALIDATOR_MODULES. Prints one JSON object per document:
// the errors of the strict schema and the mandatory tests, and the warnings of the optional tests.
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'

const modules = process.env.CSAF_VALIDATOR_MODULES
if (!modules) {
  console.error('CSAF_VALIDATOR_MODULES must name the node_modules folder of the validator')
  process.exit(2)
}
const lib = (name) =>
  import(pathToFileURL(join(modules, '@secvisogram', 'csaf-validator-lib', name)).href)

const validateStrict = (await lib('validateStrict.js')).default
const schema = await lib('schemaTests.js')
const mandatory = await lib('mandatoryTests.js')
const optional = await lib('optionalTests.js')

const findings = (result, kind) =>
  result.tests.flatMap((test) =>
    test[kind].map((item) => ({ test: test.name, path: item.instancePath, message: item.message }))
  )

const report = {}
for (const path of process.argv.slice(2)) {
  const document = JSON.parse(await readFile(path, 'utf-8'))
  const strict = await validateStrict(
    [schema.csaf_2_0_strict, ...Object.values(mandatory)],
    document
  )
  const advice = await validateStrict(Object.values(optional), document)
  report[path] = {
    errors: findings(strict, 'errors'),
    warnings: findings(advice, 'warnings'),
    optional_errors: findings(advice, 'errors'),
  }
}
process.stdout.write(JSON.stringify(report, null, 2) + '\n')
