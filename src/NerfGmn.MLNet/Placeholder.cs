namespace NerfGmn.MLNet; internal static class Placeholder {}
