import { EvalGuard } from "@evalguard/sdk";

const client = new EvalGuard({ apiKey: process.env.EVALGUARD_API_KEY });

const response = await client.request({
  method: "POST",
  path: "/api/v1/auto-eval",
  body: {
    "target": {},
    "sample_count": 100
  },
});
console.log(response);
