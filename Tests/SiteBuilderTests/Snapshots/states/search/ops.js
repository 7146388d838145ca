LETTERBOX_SEARCH([
{"href":"threads/ops.html#m-backup","title":"Operations › backup.md","text":"Is the nightly backup healthy? db-1 db-2"},
{"href":"threads/ops.html#m-backup.reply","title":"Operations › backup.reply.md","text":"Yes. Both finished: host size db-1 4.2 GB db-2 3.9 GB"},
{"href":"threads/ops.html#m-backup.reply-2","title":"Operations › backup.reply-2.md","text":"Regenerated: both backups completed at 02:14."},
{"href":"threads/ops.html#m-restart","title":"Operations › restart.md","text":"Restart the backup service on db-1."},
{"href":"threads/ops.html#m-restart.reply","title":"Operations › restart.reply.md","text":"Checking the service…"}
]);
