// Pipelines that make training data with a generator and a judge: self-critique and revision,
// preference pairs, critical questions.
export {
  revise, reviseRecords, reviseStage, parseAcceptRule, describeAcceptRule, accepts, chainMessages,
  type AcceptRule, type ChainStep, type ReviseRecord, type ReviseOptions, type ReviseSettings, type ReviseCounters,
} from "./revise.js";
export {
  makePairs, makePairsFromRecords, pairsStage, DEGRADE_TEMPLATES,
  type PairSource, type PreferencePair, type DegradeAttempt, type PairsOptions, type PairsSettings, type PairsCounters,
} from "./pairs.js";
export {
  criticalQuestions, criticalQuestionsFromRecords, questionsStage, questionPrompt, classificationMessages,
  classificationConstraint, parseQuestionType, cleanQuestion, classificationReport, QUESTION_PROMPT,
  type QuestionsOptions, type QuestionsSettings, type QuestionsCounters, type ClassificationReport, type TypeCounts,
} from "./questions.js";
export {
  loadPrinciple, loadQuestionTypes, builtinPrincipleNames, builtinQuestionTypeSetNames, findQuestionType, normalizeTypeName,
  PRINCIPLES_DIR, QUESTION_TYPES_DIR,
  type Principle, type QuestionType, type QuestionTypeSet,
} from "./assets.js";
export {
  runPipelineFile, runPipelineRecords, DEFAULT_GENERATION_PARAMS, DEFAULT_PIPELINE_STORE,
  type PipelineOptions, type PipelineRecordsOptions, type PipelineSummary, type Stage, type StageContext, type ItemResult, type Check,
} from "./run.js";
export { Caller, Scorer, LimitedBackend, InterruptedError, type GenerationStats, type Score } from "./runtime.js";
