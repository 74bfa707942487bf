namespace NerfGmn; internal static class Placeholder {}
