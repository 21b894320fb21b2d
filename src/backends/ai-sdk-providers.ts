/**
 * `--model <provider>:<id>` for the official AI SDK provider packages. Each package is imported
 * only when its prefix is used, so critic's start-up and `npm ci` stay as they were; a missing one
 * is a clear "npm i" message. Keys come from each provider's own environment variables, read by the
 * package itself (critic never reads, prints or stores them).
 */
import type { AiSdkLanguageModel } from "./ai-sdk.js";
import type { AiSdkBatchApi } from "./ai-sdk-batch.js";

interface ProviderPackage {
  package: string;
  /** The package's `create…` factory, called with `{ baseURL }` when --base-url is given. */
  factory: string;
  /** The environment variable(s) the package reads its key from, for the help text and errors. */
  keys: string;
}

export const AI_SDK_PROVIDERS: Readonly<Record<string, ProviderPackage>> = {
  anthropic: { package: "@ai-sdk/anthropic", factory: "createAnthropic", keys: "ANTHROPIC_API_KEY" },
  google: { package: "@ai-sdk/google", factory: "createGoogleGenerativeAI", keys: "GOOGLE_GENERATIVE_AI_API_KEY" },
  vertex: { package: "@ai-sdk/google-vertex", factory: "createVertex", keys: "GOOGLE_VERTEX_PROJECT, GOOGLE_VERTEX_LOCATION and Google application credentials" },
  mistral: { package: "@ai-sdk/mistral", factory: "createMistral", keys: "MISTRAL_API_KEY" },
  bedrock: { package: "@ai-sdk/amazon-bedrock", factory: "createAmazonBedrock", keys: "AWS_REGION and AWS credentials (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or a profile)" },
  azure: { package: "@ai-sdk/azure", factory: "createAzure", keys: "AZURE_RESOURCE_NAME and AZURE_API_KEY" },
  groq: { package: "@ai-sdk/groq", factory: "createGroq", keys: "GROQ_API_KEY" },
  xai: { package: "@ai-sdk/xai", factory: "createXai", keys: "XAI_API_KEY" },
  deepseek: { package: "@ai-sdk/deepseek", factory: "createDeepSeek", keys: "DEEPSEEK_API_KEY" },
  cohere: { package: "@ai-sdk/cohere", factory: "createCohere", keys: "COHERE_API_KEY" },
  togetherai: { package: "@ai-sdk/togetherai", factory: "createTogetherAI", keys: "TOGETHER_AI_API_KEY" },
  fireworks: { package: "@ai-sdk/fireworks", factory: "createFireworks", keys: "FIREWORKS_API_KEY" },
};

/** Opens `<provider>:<id>` as an AI SDK language model from its provider package. */
export async function openAiSdkModel(provider: string, modelId: string, options: { baseURL?: string } = {}): Promise<AiSdkLanguageModel> {
  return (await openAiSdkProvider(provider, modelId, options)).model;
}

/** The model and, where the provider has one, its batch API (`experimental_batch()`). */
export async function openAiSdkProvider(provider: string, modelId: string, options: { baseURL?: string } = {}): Promise<{ model: AiSdkLanguageModel; batchApi?: () => AiSdkBatchApi }> {
  const entry = AI_SDK_PROVIDERS[provider];
  if (!entry) throw new Error(`unknown AI SDK provider "${provider}" (known: ${Object.keys(AI_SDK_PROVIDERS).join(", ")})`);
  let module: Record<string, unknown>;
  try {
    module = (await import(entry.package)) as Record<string, unknown>;
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND") {
      throw new Error(`--model ${provider}:${modelId} runs through the AI SDK provider package ${entry.package}, which is not installed: npm i ${entry.package}`);
    }
    throw error;
  }
  const create = module[entry.factory];
  if (typeof create !== "function") throw new Error(`${entry.package} has no ${entry.factory}(): install a version for AI SDK 5 or later (npm i ${entry.package}@latest)`);
  const instance = (create as (settings: Record<string, unknown>) => ((id: string) => AiSdkLanguageModel) & { experimental_batch?: () => AiSdkBatchApi })(options.baseURL ? { baseURL: options.baseURL } : {});
  const model = instance(modelId);
  return { model, ...(typeof instance.experimental_batch === "function" ? { batchApi: () => instance.experimental_batch!() } : {}) };
}
