// critic in the AI SDK (`import { criticDecisionModel } from "critic/ai-sdk"`): over the library's public functions only.
export { criticDecisionModel, type CriticDecisionModel, type CriticDecisionModelOptions } from "./decision-model.js";
export { criticScorer, criticEvaliteScorer, type CriticScorerOptions, type CriticScore, type ScorerArgs } from "./scorer.js";
export { emitEvaluationEvent, evaluationAttributes, type EvaluationEventOptions } from "./otel.js";
