using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace NerfGmn.Analyzers;

/// <summary>
/// NGT001: a number converted to <c>TorchSharp.Scalar</c> by its conversion operator (e.g. <c>t * 0.5</c>,
/// <c>t.clamp_min(1e-9)</c>). The temporary Scalar has a finalizer and passes a raw pointer to native code, so a GC
/// during the native call can free it while libtorch reads it (seen as "toDouble" / "isIntegral" assertions in
/// long runs). Use <c>NerfGmn.Runtime.ScalarArgs.S(…)</c>, which keeps the Scalar alive and frees it on this thread.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class ImplicitScalarAnalyzer : DiagnosticAnalyzer
{
    public static readonly DiagnosticDescriptor Rule = new(
        "NGT001", "Temporary TorchSharp Scalar",
        "'{0}' becomes a temporary TorchSharp.Scalar that the GC may free during the native call; write S({0}) (NerfGmn.Runtime.ScalarArgs)",
        "Reliability", DiagnosticSeverity.Error, isEnabledByDefault: true,
        description: "TorchSharp Scalars made by conversion operators are finalizable and unreferenced during the P/Invoke that uses them.");

    public static readonly DiagnosticDescriptor TensorRule = new(
        "NGT002", "Temporary TorchSharp Tensor from a number",
        "'{0}' becomes a temporary 0-d Tensor that the GC may free during the native call; write T({0}) (NerfGmn.Runtime.ScalarArgs)",
        "Reliability", DiagnosticSeverity.Error, isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor ScalarAsTensorRule = new(
        "NGT003", "Scalar where a Tensor is expected",
        "'{0}' is a Scalar converted to Tensor, which TorchSharp rejects at run time; write T(…) instead",
        "Reliability", DiagnosticSeverity.Error, isEnabledByDefault: true);

    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics => ImmutableArray.Create(Rule, TensorRule, ScalarAsTensorRule, HiddenAlphaRule);

    public override void Initialize(AnalysisContext context)
    {
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.EnableConcurrentExecution();
        context.RegisterOperationAction(AnalyzeConversion, OperationKind.Conversion);
        context.RegisterOperationAction(AnalyzeOperator, OperationKind.Binary, OperationKind.CompoundAssignment);
        context.RegisterOperationAction(AnalyzeHiddenAlpha, OperationKind.Binary, OperationKind.CompoundAssignment, OperationKind.Invocation);
    }

    public static readonly DiagnosticDescriptor HiddenAlphaRule = new(
        "NGT004", "TorchSharp call with a hidden temporary Scalar",
        "'{0}' makes a temporary Scalar inside TorchSharp (add without alpha: 1; square: the exponent 2) that the GC may free during the native call; use Plus/AddInPlace/Squared (NerfGmn.Runtime.ScalarArgs)",
        "Reliability", DiagnosticSeverity.Error, isEnabledByDefault: true);

    /// <summary>
    /// <c>a + b</c>, <c>a += b</c>, <c>a.add(b)</c>, <c>a.add_(b)</c>: TorchSharp forwards to the overload with
    /// <c>alpha: 1</c>, converting 1 to a temporary Scalar inside its own code. Its sub has no alpha, but
    /// <c>scalar - tensor</c> is implemented as <c>tensor.negative().add(scalar)</c>. <c>square()</c> is <c>pow(2)</c>
    /// (seen failing: "INTERNAL ASSERT FAILED at Scalar.h" while graphs were built on several threads).
    /// </summary>
    static void AnalyzeHiddenAlpha(OperationAnalysisContext context)
    {
        switch (context.Operation)
        {
            case IBinaryOperation { OperatorKind: BinaryOperatorKind.Add, OperatorMethod: { } m } b when IsTorchValue(m.ContainingType) && m.ContainingType.Name == "Tensor":
                context.ReportDiagnostic(Diagnostic.Create(HiddenAlphaRule, b.Syntax.GetLocation(), Short(b.Syntax.ToString())));
                break;
            case IBinaryOperation { OperatorKind: BinaryOperatorKind.Subtract, OperatorMethod: { } m } b
                when IsTorchValue(m.ContainingType) && m.ContainingType.Name == "Tensor" && m.Parameters.Length == 2 && m.Parameters[0].Type.Name == "Scalar":
                context.ReportDiagnostic(Diagnostic.Create(HiddenAlphaRule, b.Syntax.GetLocation(), Short(b.Syntax.ToString())));
                break;
            case ICompoundAssignmentOperation { OperatorKind: BinaryOperatorKind.Add, OperatorMethod: { } m } c when IsTorchValue(m.ContainingType) && m.ContainingType.Name == "Tensor":
                context.ReportDiagnostic(Diagnostic.Create(HiddenAlphaRule, c.Syntax.GetLocation(), Short(c.Syntax.ToString())));
                break;
            case IInvocationOperation { TargetMethod: { Name: "add" or "add_" } m } i
                when m.Parameters.Length == 1 && IsTorchValue(m.ContainingType) && m.ContainingType.Name == "Tensor":
                context.ReportDiagnostic(Diagnostic.Create(HiddenAlphaRule, i.Syntax.GetLocation(), Short(i.Syntax.ToString())));
                break;
            case IInvocationOperation { TargetMethod: { Name: "square" or "square_" } m } i
                when m.Parameters.Length == 0 && IsTorchValue(m.ContainingType) && m.ContainingType.Name == "Tensor":
                context.ReportDiagnostic(Diagnostic.Create(HiddenAlphaRule, i.Syntax.GetLocation(), Short(i.Syntax.ToString())));
                break;
        }
    }

    static string Short(string text) => text.Length > 60 ? text.Substring(0, 57) + "..." : text;

    /// <summary>A number turned into a Scalar (or a 0-d Tensor, same hazard) by a conversion operator.</summary>
    static void AnalyzeConversion(OperationAnalysisContext context)
    {
        var conversion = (IConversionOperation)context.Operation;
        if (conversion.OperatorMethod is not { } method || !IsTorchValue(method.ContainingType)) return;
        if (conversion.Operand.Type?.SpecialType != SpecialType.None)
            Report(context, conversion.Operand, method.ContainingType.Name == "Tensor" ? TensorRule : Rule);
        else if (method.ContainingType.Name == "Tensor" && conversion.Operand.Type is { Name: "Scalar" })
            Report(context, conversion.Operand, ScalarAsTensorRule);   // throws at run time in TorchSharp
    }

    /// <summary><c>tensor * 0.5</c>: TorchSharp's operators taking a primitive make the same temporary Scalar inside.</summary>
    static void AnalyzeOperator(OperationAnalysisContext context)
    {
        var (method, left, right) = context.Operation switch
        {
            IBinaryOperation b => (b.OperatorMethod, b.LeftOperand, b.RightOperand),
            ICompoundAssignmentOperation c => (c.OperatorMethod, c.Target, c.Value),
            _ => (null, null, null),
        };
        if (method is null || !IsTorchValue(method.ContainingType)) return;
        for (int i = 0; i < method.Parameters.Length && i < 2; i++)
            if (method.Parameters[i].Type.SpecialType is not SpecialType.None and not SpecialType.System_Object)
                Report(context, i == 0 ? left! : right!);
    }

    static bool IsTorchValue(INamedTypeSymbol? type) =>
        type is { Name: "Scalar" } && type.ContainingNamespace?.ToDisplayString() == "TorchSharp"
        || type is { Name: "Tensor", ContainingType.Name: "torch" } && type.ContainingNamespace?.ToDisplayString() == "TorchSharp";

    static void Report(OperationAnalysisContext context, IOperation operand, DiagnosticDescriptor? rule = null)
    {
        // Report the written expression, not a compiler-inserted conversion around it.
        while (operand is IConversionOperation { IsImplicit: true } c) operand = c.Operand;
        context.ReportDiagnostic(Diagnostic.Create(rule ?? Rule, operand.Syntax.GetLocation(), operand.Syntax.ToString()));
    }
}
