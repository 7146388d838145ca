public enum _SiteBuilderPlaceholder {}
