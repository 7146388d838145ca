LETTERBOX_SEARCH([
{"href":"threads/ops.html#m-backup","title":"Operations › backup.md","thread":"ops","threadTitle":"Operations","agent":"assistant","state":"replied","at":"2026-11-21T09:00:04.000Z","text":"","edited":true},
{"href":"threads/ops.html#m-backup.reply","title":"Operations › backup.reply.md","thread":"ops","threadTitle":"Operations","agent":"assistant","state":"complete","at":"2026-11-21T09:00:09.000Z","text":"Yes. Both finished: host size db-1 4.2 GB db-2 3.9 GB"},
{"href":"threads/ops.html#m-backup.reply-2","title":"Operations › backup.reply-2.md","thread":"ops","threadTitle":"Operations","agent":"assistant","state":"complete","at":"2026-11-21T09:00:13.000Z","text":"Regenerated: both backups completed at 02:14."},
{"href":"threads/ops.html#m-restart","title":"Operations › restart.md","thread":"ops","threadTitle":"Operations","agent":"operator","state":"sent","at":"2026-11-21T09:00:16.000Z","text":"Restart the backup service on db-1."},
{"href":"threads/ops.html#m-restart.reply","title":"Operations › restart.reply.md","thread":"ops","threadTitle":"Operations","agent":"operator","state":"awaiting_approval","at":"2026-11-21T09:00:21.000Z","text":"Checking the service…"}
]);
