using Microsoft.ML;

namespace NerfGmn.MLNet.Search;

/// <summary><c>mlContext.CreateClassifierSearch(settings)</c> — the counterpart of AutoML's multiclass experiment.</summary>
public static class ClassifierSearchCatalog
{
    public static ClassifierSearch CreateClassifierSearch(this MLContext ml, ClassifierSearchSettings? settings = null) =>
        new(ml, settings ?? new ClassifierSearchSettings());
}
