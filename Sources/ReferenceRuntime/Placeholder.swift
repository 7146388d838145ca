public enum _ReferenceRuntimePlaceholder {}
