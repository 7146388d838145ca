public enum _InboxDaemonPlaceholder {}
