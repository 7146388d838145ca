LETTERBOX_SHARDS(["approvals.js","billing.js","ops.js","writing.js"]);
