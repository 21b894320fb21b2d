export { createServerApp, type ServerAppOptions } from "./app.js";
export { startServer, type RunningServer, type StartServerOptions } from "./start.js";
export { registerRewardRoute, rewardGrader, parseRewardRequest, type RewardEndpointOptions, type RewardSetup } from "./reward.js";
