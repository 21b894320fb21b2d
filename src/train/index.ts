// critic train as a library: run folders for TRL, launching with progress, doctor, hosted fine-tuning.
export { writeRunFolder, readRunManifest, yamlValue, RUN_MANIFEST, type RecipeOptions, type RunManifest, type WrittenRun } from "./recipe.js";
export { readExportDir, checkExportFor, EXPORT_FORMATS, type ExportDir, type ExportFormat } from "./export-dir.js";
export { loadTrlFields, parseSetting, didYouMean, TRL_TRAINERS, TRL_ASSETS_DIR, type TrlFields, type TrlTrainer } from "./fields.js";
export { PRESETS, PRESET_NAMES, getPreset, type Preset, type PresetName } from "./presets.js";
export { accelerateYaml, ACCELERATE_MODES, type AccelerateMode, type AccelerateOptions } from "./accelerate.js";
export { parseTrainerLine, parseLogDict, applyEvent, emptyTrainState, type TrainerEvent, type TrainState } from "./log-parser.js";
export { launchRun, startLaunch, describeLaunch, type LaunchOptions, type LaunchResult, type RunningLaunch } from "./launch.js";
export { TrainStore, type TrainRunRow, type TrainStatus } from "./train-store.js";
export { runDoctor, formatDoctor, type DoctorReport, type DoctorOptions } from "./doctor.js";
export {
  runHostedFineTune, followHostedJob, prepareHostedFiles, parseHostedSettings, toOpenAISupervised, toOpenAIPreference,
  type HostedOptions, type HostedResult, type HostedTrainer,
} from "./openai-ft.js";
