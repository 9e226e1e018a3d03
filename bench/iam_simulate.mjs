// The same requests through iam-simulate (npm @cloud-copilot/iam-simulate),
// one runSimulation per request, for bench/simulate.sh. Prints the counts.
//   node bench/iam_simulate.mjs POLICY REQUESTS
import { readFileSync } from 'node:fs'
import { runSimulation } from '@cloud-copilot/iam-simulate'

const [policyFile, requestsFile] = process.argv.slice(2)
const policy = JSON.parse(readFileSync(policyFile, 'utf8'))
const lines = readFileSync(requestsFile, 'utf8').split('\n').filter((l) => l.trim())
const counts = {}
for (const line of lines) {
  const r = JSON.parse(line)
  const result = await runSimulation(
    {
      request: {
        principal: r.principal,
        action: r.action,
        resource: { resource: r.resource, accountId: r.resource_account },
        contextVariables: r.context ?? {},
      },
      identityPolicies: [{ name: 'policy', policy }],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
    },
    {},
  )
  const key = result.resultType === 'error' ? 'error' : result.overallResult
  counts[key] = (counts[key] ?? 0) + 1
}
console.log(JSON.stringify(counts))
