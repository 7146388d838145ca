LETTERBOX_SEARCH([
{"href":"threads/ops.html#m-backup","title":"Operations › backup.md","text":"Is the nightly backup healthy?\n\n  - db-1\n  - db-2\n"},
{"href":"threads/ops.html#m-backup.reply","title":"Operations › backup.reply.md","text":"Yes. Both finished:\n\n| host | size |\n| --- | --: |\n| db-1 | 4.2 GB |\n| db-2 | 3.9 GB |\n"},
{"href":"threads/ops.html#m-backup.reply-2","title":"Operations › backup.reply-2.md","text":"Regenerated: both backups completed at 02:14.\n"},
{"href":"threads/ops.html#m-restart","title":"Operations › restart.md","text":"Restart the backup service on db-1.\n"},
{"href":"threads/ops.html#m-restart.reply","title":"Operations › restart.reply.md","text":"Checking the service…\n"}
]);
